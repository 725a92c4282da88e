"""The embedded AWS emulation: moto's server app on loopback, made to behave like AWS where an
application depends on it (``docs/local-aws.md``), behind the fault injector (the fail rates) and
whatever middleware the application adds (a journal of the mail sent, say)."""

from __future__ import annotations

import random
import threading
from collections.abc import Sequence
from typing import Any

from samlocal.aws_endpoint import moto_dynamodb, moto_events, moto_streams, moto_tracking
from samlocal.eventbridge.delivery import TargetDelivery
from samlocal.faults import FailRates, FaultInjector
from samlocal.wsgi import Middleware, WsgiApp


class MotoServer:
    """moto's server app in a thread on loopback, listening once made; moto's fixes are
    installed from :meth:`start` to :meth:`stop`."""

    def __init__(
        self,
        port: int = 0,
        fail_rates: FailRates | None = None,
        seed: int | None = None,
        middleware: Sequence[Middleware] = (),
    ) -> None:
        from moto.moto_server.werkzeug_app import (
            DomainDispatcherApplication,
            MotoRequestHandler,
            create_backend_app,
        )
        from werkzeug.serving import make_server

        class QuietHandler(MotoRequestHandler):
            def log_request(self, *args: Any) -> None:
                """Every AWS call would be a line of noise in the runtime's output."""

        self.delivery = TargetDelivery()
        self.stream_activity = moto_streams.StreamActivity()
        """Counts the stream records appended, so stream pollers can sleep until there is one."""
        self.fail_rates = fail_rates or FailRates({})
        app: WsgiApp = moto_dynamodb.serialised(DomainDispatcherApplication(create_backend_app))
        app = FaultInjector(app, self.fail_rates, random.Random(seed))  # noqa: S311
        for layer in middleware:
            app = layer(app)
        self._server = make_server(
            "127.0.0.1", port, app, threaded=True, request_handler=QuietHandler
        )
        self._thread = threading.Thread(target=self._server.serve_forever, name="moto", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}"

    def start(self) -> None:
        moto_tracking.install()
        moto_dynamodb.install()
        moto_streams.install(self.stream_activity)
        moto_events.install(self.delivery)
        self.delivery.start()
        self._thread.start()

    def stop(self) -> None:
        """Stops serving, closes the port and puts moto's own behaviour back (tests start
        servers in-process)."""
        if self._thread.is_alive():
            self.delivery.stop()
            self._server.shutdown()
            self._thread.join(timeout=5)
            moto_events.uninstall()
            moto_streams.uninstall()
            moto_dynamodb.uninstall()
            moto_tracking.uninstall()
        self._server.server_close()
        self.fail_rates.remove()
