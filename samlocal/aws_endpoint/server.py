"""The embedded AWS emulation: moto's server app on loopback, made to behave like AWS where the
stack depends on it (``docs/local-aws.md``), behind the fault injector (``--fail-rate``)."""

from __future__ import annotations

import random
import threading
from pathlib import Path
from typing import Any

from samlocal.aws_endpoint import moto_dynamodb, moto_events, moto_tracking
from samlocal.eventbridge.delivery import TargetDelivery
from samlocal.faults.injector import FaultInjector, WsgiApp
from samlocal.faults.rates import FailRates, parse_fail_rates

__all__ = ["MotoServer", "parse_fail_rates"]  # what `userflow local` needs to start one


class MotoServer:
    """moto's server app in a thread on loopback.

    ``fail_rates`` are the start-up rates; with ``rates_file`` they follow that file while the
    server runs (see :mod:`samlocal.faults.rates`).
    """

    def __init__(
        self,
        port: int = 0,
        fail_rates: dict[str, float] | None = None,
        seed: int | None = None,
        rates_file: Path | None = None,
        mail_journal: Path | None = None,
    ) -> None:
        from moto.moto_server.werkzeug_app import (
            DomainDispatcherApplication,
            MotoRequestHandler,
            create_backend_app,
        )
        from werkzeug.serving import make_server

        class QuietHandler(MotoRequestHandler):
            def log_request(self, *args: Any) -> None:
                """Every AWS call would be a line of noise in `userflow local`'s output."""

        moto_tracking.install()
        moto_dynamodb.install()
        self.delivery = TargetDelivery()
        moto_events.install(self.delivery)
        self.fail_rates = FailRates(fail_rates or {}, rates_file)
        app: WsgiApp = moto_dynamodb.serialised(DomainDispatcherApplication(create_backend_app))
        app = FaultInjector(app, self.fail_rates, random.Random(seed))  # noqa: S311
        if mail_journal is not None:
            from samlocal.ses.journal import MailJournal

            app = MailJournal(app, mail_journal)
        self._server = make_server(
            "127.0.0.1", port, app, threaded=True, request_handler=QuietHandler
        )
        self._thread = threading.Thread(target=self._server.serve_forever, name="moto", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}"

    def start(self) -> None:
        self.delivery.start()
        self._thread.start()

    def stop(self) -> None:
        """Stops serving and puts moto's own behaviour back (tests start servers in-process)."""
        self.delivery.stop()
        self._server.shutdown()
        self._thread.join(timeout=5)
        self.fail_rates.remove()
        moto_events.uninstall()
        moto_dynamodb.uninstall()
        moto_tracking.uninstall()
