"""Failures on purpose, to rehearse recovery: the share of each operation that fails
(``rates``, changeable while the stack runs) and where they are injected (``injector``)."""

from samlocal.faults.injector import FaultInjector
from samlocal.faults.rates import FailRates, format_fail_rates, parse_fail_rates

__all__ = ["FailRates", "FaultInjector", "format_fail_rates", "parse_fail_rates"]
