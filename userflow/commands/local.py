"""`userflow local`: the whole stack on this machine, read from `template.yaml`.

An embedded moto server stands in for AWS; the template's resources are provisioned in it, the
HTTP API (routes, authorizer) is served on 127.0.0.1, and the DynamoDB stream is polled into the
stream functions. The running stack is recorded in a state file so that the other `userflow`
commands reach it with no flags; the file is removed on Ctrl-C/SIGTERM.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import logging
import os
import signal
import threading
import time
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

from userflow.errors import EXIT_USAGE, CommandError

if TYPE_CHECKING:
    from samlocal.provision import ProvisionedStack

log = logging.getLogger("userflow-local")


def _fail_rates(text: str) -> dict[str, float]:
    from samlocal.faults import parse_fail_rates

    try:
        return parse_fail_rates(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "local", help="run the whole stack locally", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--port", type=int, default=3000, help="HTTP API port (0: any free port)")
    parser.add_argument(
        "--fail-rate",
        type=_fail_rates,
        default={},
        metavar="OP=RATE[,...]",
        help="fail this share of an operation, e.g. putevents=0.3 (failed PutEvents entries); "
        "`userflow fail-rate` changes it while the stack runs",
    )
    parser.add_argument("--template", type=Path, default=None, help="SAM template to run")
    parser.add_argument(
        "--moto-port", type=int, default=0, help="port of the local AWS endpoint (0: any)"
    )
    parser.add_argument(
        "--max-concurrency",
        type=_positive_int,
        default=4,
        metavar="N",
        help="worker processes (execution environments) per function at most (default 4)",
    )
    parser.add_argument(
        "--max-running",
        type=_positive_int,
        default=None,
        metavar="N",
        help="invocations running at once across functions (default: 2 per core, at least 4); "
        "the others wait for a turn, a wait not counted in their Timeout",
    )
    parser.add_argument(
        "--idle-timeout",
        type=float,
        default=300.0,
        metavar="S",
        help="end an execution environment idle for S seconds, as Lambda does (300); the next "
        "invocation of its function is a cold start",
    )
    parser.add_argument(
        "--client-timeout",
        type=float,
        default=30.0,
        metavar="S",
        help="answer 408 to a request not fully received S seconds after it began, and close "
        "connections idle that long (30)",
    )
    parser.add_argument(
        "--log-format", choices=("text", "json"), default="text", help="console format"
    )
    parser.add_argument(
        "--metrics-file",
        type=Path,
        default=None,
        help="append functions' EMF metrics here instead of a summary line on the console",
    )
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="also show each invocation's REPORT line"
    )
    parser.add_argument(
        "--parameter-overrides",
        nargs="+",
        action="extend",
        default=[],
        metavar="KEY=VALUE",
        help="template parameters, as `sam deploy --parameter-overrides` takes them (Key=Value "
        "or ParameterKey=Key,ParameterValue=Value), e.g. SessionLifetimeSeconds=60: every limit "
        'and lifetime (docs/api/auth.md, "Policies")',
    )
    parser.add_argument(
        "--allowed-origins",
        default="",
        metavar="ORIGIN[,...]",
        help="the template's AllowedOrigins parameter: browser origins allowed by CORS",
    )
    parser.set_defaults(run=run)


def _fake_credentials() -> None:
    """Clients of this process talk to moto only; never pick up real credentials."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        os.environ[name] = "testing"
    os.environ.pop("AWS_PROFILE", None)


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def run(args: argparse.Namespace) -> int:
    _check_hash_cost()
    from samlocal.console import configure_console

    configure_console(
        args.log_format,
        verbose=args.verbose,
        metrics_file=args.metrics_file,
        application_loggers=(log.name,),
    )
    started = time.monotonic()
    stop = _stop_on_signals()
    _fake_credentials()
    from samlocal.runtime import LocalRuntime, PortUnavailable
    from userflow.api_reference import api_reference_middleware
    from userflow.local_stack import runtime_options
    from userflow.local_state import record_local_state, remove_local_state, running_local_state
    from userflow.template import default_template

    running = running_local_state()
    if running is not None:
        raise CommandError(
            f"a local stack from this checkout is running already (pid {running['pid']}, API "
            f"{running['api_url']}): stop it first, or start this one with a state directory "
            "of its own: USERFLOW_STATE_DIR=/tmp/userflow-2 make run PORT=3001",
            EXIT_USAGE,
        )
    template = (args.template or default_template()).resolve()
    overrides = _parameters(template, args.parameter_overrides)
    parameters = dict(overrides)
    if args.allowed_origins:
        parameters["AllowedOrigins"] = args.allowed_origins
    options = dataclasses.replace(
        runtime_options(template, parameters),
        port=args.port,
        moto_port=args.moto_port,
        fail_rates=args.fail_rate,
        max_concurrency=args.max_concurrency,
        max_running=args.max_running,
        idle_timeout=args.idle_timeout,
        client_timeout=args.client_timeout,
        middleware=[api_reference_middleware()],
    )
    log.info("starting userflow local from %s", options.template)
    try:
        with LocalRuntime(options) as runtime:
            stack = runtime.stack
            path = record_local_state(stack)
            try:
                _announce_stack(args, stack, path, overrides)
                log.info("userflow local ready in %.1f s", time.monotonic() - started)
                while not stop.wait(0.5):
                    pass
            finally:
                remove_local_state(path)
    except PortUnavailable as error:
        other = error.port + 1
        hint = (
            f"is another stack running there? Start this one on another port: "
            f"make run PORT={other} (userflow local --port {other})"
            if error.port == args.port
            else "give --moto-port another port, or 0 for any free one"
        )
        raise CommandError(f"{error}; {hint}") from None
    _announce(args.log_format == "json", "userflow local stopped")
    return 0


def _check_hash_cost() -> None:
    """The functions' password-hash settings, checked before anything starts: a refused one
    would otherwise fail every registration and login of the running stack."""
    from domain.passwords import Argon2Cost

    try:
        Argon2Cost.from_environment()
    except (RuntimeError, ValueError) as error:
        raise CommandError(f"local: {error}", EXIT_USAGE) from None


def _announce_stack(
    args: argparse.Namespace, stack: ProvisionedStack, path: Path, overrides: dict[str, str]
) -> None:
    announce = functools.partial(_announce, args.log_format == "json")
    announce(f"Userflow API:       {stack.api_url} (stack {stack.name}, stage local)")
    announce(f"API reference:      {stack.api_url}/docs (Swagger UI, offline)")
    announce(f"Local AWS endpoint: {stack.endpoint_url} (region {stack.region})")
    announce(f"Stack state:        {path} (Ctrl-C stops)")
    for identity in stack.of_type("AWS::SES::EmailIdentity").values():
        announce(
            f"Mail:               sent as {identity['physical_id']} (SES identity verified"
            " locally); read it with `userflow mail list`"
        )
    if args.fail_rate:
        announce(f"Injected failures:  {args.fail_rate} (change: userflow fail-rate)")
    if overrides:
        shown = " ".join(f"{name}={value}" for name, value in overrides.items())
        announce(f"Parameters:         {shown}")


def _parameters(template: Path, overrides: list[str]) -> dict[str, str]:
    """The overrides, checked against the template before anything starts (exit 2 if not)."""
    from samlocal.provision import ParameterError
    from userflow.local_stack import local_parameters

    try:
        return local_parameters(template, overrides)
    except ParameterError as error:
        raise CommandError(f"local: --parameter-overrides: {error}", EXIT_USAGE) from None


def _announce(as_json: bool, text: str) -> None:
    """Start-up facts: plain lines for a person, log records in ``--log-format json``."""
    if as_json:
        log.info(text)
    else:
        print(text, flush=True)


def _stop_on_signals() -> threading.Event:
    """An event set by Ctrl-C/SIGTERM, installed before start-up: a signal while starting (or
    just after the state file is written) still ends in the orderly shutdown, not a traceback
    or a stale state file. SIGINT too: a shell may start us in the background with it ignored."""
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    return stop
