"""The running local stack: HTTP listener, moto, provisioned resources, workers, stream pollers.

An application's command (``userflow local``) parses flags and prints; this module starts what
it asked for, in start-up order, and stops it in reverse — SAM CLI's command → context →
service::

    with LocalRuntime(RuntimeOptions(template=path, stack_name="app-local")) as runtime:
        print(runtime.stack.api_url)
        wait_for_ctrl_c()

The HTTP port is bound first: when it is busy, nothing else has started or been written yet. A
start that fails half-way stops what had started. The application's own start-up steps (keys
to create, a journal of the mail sent) come in as hooks: ``on_provisioned``, ``aws_middleware``.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

from samlocal.apigateway import (
    Gateway,
    GatewayServer,
    Middleware,
    api_from_template,
    cors_from_template,
    cors_middleware,
)
from samlocal.aws_endpoint import MotoServer
from samlocal.faults import FailRates
from samlocal.functions import (
    LOCAL_SESSION_TOKEN,
    ParametersExtension,
    WorkerPool,
    ttls_from_template,
)
from samlocal.functions.pool import DEFAULT_IDLE_TIMEOUT_S
from samlocal.intrinsics import Resolver
from samlocal.provision import DEFAULT_REGION, ProvisionedStack, provision_stack, stack_resolver
from samlocal.ses import MailJournal
from samlocal.stream_mapping import StreamPoller, mappings_from_template
from samlocal.template import load_template
from samlocal.wsgi import Middleware as AwsMiddleware


class PortUnavailable(Exception):
    """A port the stack must listen on cannot be had (another process holds it, say)."""

    def __init__(self, what: str, port: int, error: OSError) -> None:
        super().__init__(f"cannot listen on 127.0.0.1:{port} ({what}): {error.strerror or error}")
        self.what = what
        self.port = port


@dataclass(frozen=True)
class RuntimeOptions:
    template: Path
    stack_name: str = "samlocal"
    parameters: Mapping[str, str] = field(default_factory=dict)
    """Values of the template's parameters (the others keep their defaults)."""
    port: int = 3000
    moto_port: int = 0
    fail_rates: Mapping[str, float] = field(default_factory=dict)
    rates_file: Path | None = None
    """A control file the stack follows for fail-rate changes while it runs."""
    mail_journal: Path | None = None
    """Where each message moto's SES accepts is journaled (emptied at start)."""
    max_concurrency: int = 4
    max_running: int | None = None
    """Invocations running at once across functions (None: two per core, at least 4)."""
    idle_timeout: float = DEFAULT_IDLE_TIMEOUT_S
    """Seconds an execution environment may be idle before it ends, as Lambda ends it."""
    client_timeout: float = 30.0
    middleware: Sequence[Middleware] = ()
    """The gateway's middleware, after CORS."""
    passed_through: Sequence[str] = ()
    """Variables of this process that reach every function as they are."""
    on_provisioned: Sequence[Callable[[ProvisionedStack], None]] = ()
    """The application's start-up steps, once the template's resources exist."""
    aws_middleware: Sequence[AwsMiddleware] = ()
    """What the application puts in front of the local AWS endpoint."""


class LocalRuntime:
    """The stack's services, started by ``with`` (or :meth:`start`) and stopped on leaving it
    (or by :meth:`stop`), every worker process with them."""

    def __init__(self, options: RuntimeOptions) -> None:
        self.options = options
        self.template = load_template(options.template)
        self._started = ExitStack()
        self._stop = threading.Event()

    def __enter__(self) -> LocalRuntime:
        self.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> None:
        """Starts every service; on a failure, stops those started and raises
        (:class:`PortUnavailable` for the HTTP port before anything else has started)."""
        with ExitStack() as started:
            self._start(started)
            self._started = started.pop_all()

    def stop(self) -> None:
        self._started.close()

    def _start(self, started: ExitStack) -> None:
        options = self.options
        try:
            self.server = GatewayServer(port=options.port, client_timeout=options.client_timeout)
        except OSError as error:
            raise PortUnavailable("the HTTP API", options.port, error) from error
        started.callback(self.server.shutdown)
        try:
            self.moto = self._aws_endpoint()
        except OSError as error:
            raise PortUnavailable("the local AWS endpoint", options.moto_port, error) from error
        self.moto.start()
        started.callback(self.moto.stop)
        self.stack = provision_stack(
            options.template,
            stack_name=options.stack_name,
            region=DEFAULT_REGION,
            endpoint_url=self.moto.url,
            parameters=options.parameters,
        )
        for hook in options.on_provisioned:
            hook(self.stack)
        resolver = stack_resolver(self.template, self.stack)
        # AWS's Parameters and Secrets Lambda Extension, which functions reach over localhost.
        self.extension = ParametersExtension(
            self.stack.client,
            session_token=LOCAL_SESSION_TOKEN,
            ttl_seconds=ttls_from_template(self.template, resolver.resolve),
        )
        self.extension.start()
        started.callback(self.extension.stop)
        self.workers = WorkerPool(
            self.template,
            self.stack,
            max_per_function=options.max_concurrency,
            max_running=options.max_running,
            idle_timeout_s=options.idle_timeout,
            local_values=self.extension.function_environment(),
            passed_through=options.passed_through,
        )
        started.callback(self.workers.close)
        cors = cors_from_template(self.template, resolver)
        gateway = Gateway(
            api_from_template(self.template),
            self.workers.invoke,
            region=DEFAULT_REGION,
            middleware=[*([cors_middleware(cors)] if cors else []), *options.middleware],
        )
        # The pollers end first (woken if asleep), then the workers they call.
        started.callback(self.moto.stream_activity.notify)
        started.callback(self._stop.set)
        self._start_stream_pollers(resolver)
        self._start_sqs_pollers(resolver)
        self.server.start(gateway)
        self.stack.api_url = self.server.url
        started.callback(self.server.shutdown)  # no new request once stopping begins

    def _aws_endpoint(self) -> MotoServer:
        options = self.options
        middleware = list(options.aws_middleware)
        if options.mail_journal is not None:
            journal = options.mail_journal
            middleware.insert(0, lambda app: MailJournal(app, journal))
        return MotoServer(
            options.moto_port,
            FailRates(dict(options.fail_rates), options.rates_file),
            middleware=middleware,
        )

    def _start_stream_pollers(self, resolver: Resolver) -> None:
        client = functools.cache(self.stack.client)
        for mapping in mappings_from_template(self.template, resolver):
            if not mapping.enabled:
                continue
            poller = StreamPoller(
                mapping,
                invoke=self.workers.invoke,
                function_arn=self.stack.resources[mapping.function]["arn"],
                streams_client=self.stack.client("dynamodbstreams"),
                destination_client=client,
                region=DEFAULT_REGION,
                stop=self._stop,
                changes=self.moto.stream_activity,
            )
            threading.Thread(target=poller.run, name=f"poll-{mapping.name}", daemon=True).start()

    def _start_sqs_pollers(self, resolver: Resolver) -> None:
        from samlocal.sqs_mapping import SqsPoller, sqs_mappings_from_template

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
                stop=self._stop,
            )
            name = f"sqs-{mapping.function}"
            threading.Thread(target=poller.run, name=name, daemon=True).start()
