"""`userflow local`: the whole stack on this machine, read from `template.yaml`.

An embedded moto server stands in for AWS; the template's resources are provisioned in it, the
HTTP API (routes, authorizer) is served on 127.0.0.1, and the DynamoDB stream is polled into the
stream functions. The running stack is recorded in a state file so that the other `userflow`
commands reach it with no flags; the file is removed on Ctrl-C/SIGTERM.
"""

from __future__ import annotations

import argparse
import functools
import json
import logging
import os
import signal
import sys
import threading
import time
from pathlib import Path
from types import FrameType
from typing import Any

log = logging.getLogger("userflow-local")


def _fail_rates(text: str) -> dict[str, float]:
    from userflow.local.moto_server import parse_fail_rates

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
        "and lifetime (docs/api/auth.md, Policies)",
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
    from userflow.local.console import configure_console

    configure_console(args.log_format, verbose=args.verbose, metrics_file=args.metrics_file)
    started = time.monotonic()
    stop = _stop_on_signals()
    _fake_credentials()
    from userflow.api_reference import api_reference_middleware
    from userflow.local.fail_rates import control_file
    from userflow.local.mail_journal import journal_path
    from userflow.local.runtime import LocalRuntime, RuntimeOptions
    from userflow.local.template import default_template
    from userflow.stack import state_file

    template_path = (args.template or default_template()).resolve()
    parameters = _parameters(template_path, args.parameter_overrides)
    log.info("starting userflow local from %s", template_path)
    options = RuntimeOptions(
        template=template_path,
        port=args.port,
        moto_port=args.moto_port,
        fail_rates=args.fail_rate,
        max_concurrency=args.max_concurrency,
        max_running=args.max_running,
        client_timeout=args.client_timeout,
        rates_file=control_file(state_file()),
        mail_journal=journal_path(),
        allowed_origins=args.allowed_origins,
        parameters=parameters,
        middleware=[api_reference_middleware()],
    )
    try:
        runtime = LocalRuntime(options, stop)
    except OSError as error:
        print(f"userflow local: cannot listen: {error}", file=sys.stderr)
        return 1
    runtime.start()
    stack = runtime.stack
    state = {
        "stack_name": stack.name,
        "region": stack.region,
        "endpoint_url": stack.endpoint_url,
        "api_url": stack.api_url,
        "resources": stack.resources,
        "parameters": stack.parameters,
        "pid": os.getpid(),
        # Operator commands that act as a function would read its settings from here.
        "template": str(template_path),
    }
    path = state_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(state, indent=2))

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
    if parameters:
        shown = " ".join(f"{name}={value}" for name, value in parameters.items())
        announce(f"Parameters:         {shown}")
    log.info("userflow local ready in %.1f s", time.monotonic() - started)
    try:
        while not stop.wait(0.5):
            pass
    finally:
        _remove_state(path)
        runtime.stop()
        announce("userflow local stopped")
    return 0


def _parameters(template_path: Path, overrides: list[str]) -> dict[str, str]:
    """The overrides, checked against the template before anything starts (exit 2 if not)."""
    from userflow.errors import EXIT_USAGE, CommandError
    from userflow.local.parameter_overrides import (
        ParameterError,
        checked_overrides,
        parse_overrides,
    )
    from userflow.local.template import load_template

    try:
        return checked_overrides(load_template(template_path), parse_overrides(overrides))
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


def _remove_state(path: Path) -> None:
    """Removes the state file if it still describes this process's stack."""
    try:
        if json.loads(path.read_text()).get("pid") == os.getpid():
            path.unlink()
    except (OSError, ValueError):
        pass
