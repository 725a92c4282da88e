"""The local AWS endpoint: moto's server, and the fixes that make moto behave as AWS does where
an application depends on it. They are kept together because they break together: a moto
upgrade is checked against the tests that pin moto's behaviour (``tests/unit/local``)."""

from samlocal.aws_endpoint.moto_streams import StreamActivity
from samlocal.aws_endpoint.server import MotoServer

__all__ = ["MotoServer", "StreamActivity"]
