"""The running local stack: moto, provisioned resources, workers, HTTP server and stream pollers.

``userflow local`` (the command) parses flags and prints; this module assembles and runs what it
asked for, in start-up order, and stops it in reverse — SAM CLI's command → context → service.
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from userflow.local.cors import cors_from_template, cors_middleware
from userflow.local.functions import LOCAL_SESSION_TOKEN
from userflow.local.gateway import Gateway, Middleware
from userflow.local.moto_server import MotoServer
from userflow.local.parameters_extension import ParametersExtension, ttls_from_template
from userflow.local.provision import (
    DEFAULT_REGION,
    LOCAL_STACK_NAME,
    provision_stack,
    stack_resolver,
)
from userflow.local.routes import api_from_template
from userflow.local.server import GatewayServer
from userflow.local.template import load_template
from userflow.local.workers import WorkerPool
from userflow.stack import Stack

log = logging.getLogger("userflow-local")


@dataclass(frozen=True)
class RuntimeOptions:
    template: Path
    port: int = 3000
    moto_port: int = 0
    fail_rates: dict[str, float] = field(default_factory=dict)
    max_concurrency: int = 4
    max_running: int | None = None
    """Invocations running at once across functions (None: two per core, at least 4)."""
    client_timeout: float = 30.0
    middleware: Sequence[Middleware] = ()
    rates_file: Path | None = None
    """A control file the stack watches for fail-rate changes (``userflow fail-rate``)."""
    mail_journal: Path | None = None
    """Where each message moto's SES accepts is recorded (``userflow mail``)."""
    allowed_origins: str = ""
    """The template's ``AllowedOrigins`` parameter: browser origins CORS allows (none: no CORS)."""
    parameters: dict[str, str] = field(default_factory=dict)
    """Template parameters (``--parameter-overrides``), already checked against the template."""


class LocalRuntime:
    """Starts the stack's services; :meth:`stop` ends them and every worker process."""

    def __init__(self, options: RuntimeOptions, stop: threading.Event) -> None:
        from userflow.local import bootstrap

        self.options = options
        self.stop_event = stop
        self.template = load_template(options.template)
        self.moto = MotoServer(
            options.moto_port,
            options.fail_rates,
            rates_file=options.rates_file,
            mail_journal=options.mail_journal,
        )
        self.moto.start()
        self.stack: Stack = provision_stack(
            options.template,
            stack_name=LOCAL_STACK_NAME,
            region=DEFAULT_REGION,
            endpoint_url=self.moto.url,
            parameters=options.parameters,
        )
        bootstrap.bootstrap(self.stack)
        # AWS's Parameters and Secrets Lambda Extension, which functions reach over localhost.
        self.extension = ParametersExtension(
            self.stack.client,
            session_token=LOCAL_SESSION_TOKEN,
            ttl_seconds=ttls_from_template(
                self.template, stack_resolver(self.template, self.stack).resolve
            ),
        )
        self.workers = WorkerPool(
            self.template,
            self.stack,
            max_per_function=options.max_concurrency,
            max_running=options.max_running,
            local_values=self.extension.function_environment(),
        )
        origins = options.allowed_origins or options.parameters.get("AllowedOrigins", "")
        cors = cors_from_template(self.template, {"AllowedOrigins": origins})
        gateway = Gateway(
            api_from_template(self.template),
            self.workers.invoke,
            region=DEFAULT_REGION,
            middleware=[*([cors_middleware(cors)] if cors else []), *options.middleware],
        )
        self.server = GatewayServer(
            gateway, port=options.port, client_timeout=options.client_timeout
        )
        self.stack.api_url = self.server.url
        self._threads = [
            threading.Thread(target=self.server.serve_forever, name="gateway", daemon=True)
        ]
        self._add_stream_pollers()
        self._add_sqs_pollers()

    def _add_sqs_pollers(self) -> None:
        from userflow.local.provision import stack_resolver
        from userflow.local.sqs_poller import SqsPoller, sqs_mappings_from_template

        resolver = stack_resolver(self.template, self.stack)
        urls = {
            r.get("arn"): r["physical_id"]
            for r in self.stack.of_type("AWS::SQS::Queue").values()
            if r.get("arn")
        }
        for mapping in sqs_mappings_from_template(self.template, resolver):
            if not mapping.enabled or mapping.queue_arn not in urls:
                continue
            poller = SqsPoller(
                mapping,
                invoke=functools.partial(self.workers.invoke, mapping.function),
                sqs=self.stack.client("sqs"),
                queue_url=urls[mapping.queue_arn],
                region=DEFAULT_REGION,
                stop=self.stop_event,
            )
            self._threads.append(
                threading.Thread(target=poller.run, name=f"sqs-{mapping.function}", daemon=True)
            )

    def _add_stream_pollers(self) -> None:
        from userflow.local.provision import stack_resolver
        from userflow.local.stream_poller import StreamPoller, mappings_from_template

        client = functools.cache(self.stack.client)
        resolver = stack_resolver(self.template, self.stack)
        for mapping in mappings_from_template(self.template, resolver):
            if not mapping.enabled:
                continue
            poller = StreamPoller(
                mapping,
                invoke=functools.partial(self.workers.invoke, mapping.function),
                function_arn=self.stack.resources[mapping.function]["arn"],
                streams_client=self.stack.client("dynamodbstreams"),
                destination_client=client,
                region=DEFAULT_REGION,
                stop=self.stop_event,
            )
            self._threads.append(
                threading.Thread(target=poller.run, name=f"poll-{mapping.function}", daemon=True)
            )

    def start(self) -> None:
        self.extension.start()
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        self.stop_event.set()
        self.server.shutdown()
        self.workers.close()
        self.extension.shutdown()
        self.extension.server_close()
        self.moto.stop()
