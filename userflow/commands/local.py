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


def default_template() -> Path:
    """The repository's template (next to the package), else ./template.yaml."""
    beside_package = Path(__file__).resolve().parents[2] / "template.yaml"
    return beside_package if beside_package.exists() else Path.cwd() / "template.yaml"


def _fail_rates(text: str) -> dict[str, float]:
    from userflow.local.aws import parse_fail_rates

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
        help="fail this share of an operation, e.g. putevents=0.3 (failed PutEvents entries)",
    )
    parser.add_argument("--template", type=Path, default=None, help="SAM template to run")
    parser.add_argument(
        "--moto-port", type=int, default=0, help="port of the local AWS endpoint (0: any)"
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


def run(args: argparse.Namespace) -> int:  # noqa: PLR0915 - the start-up sequence, in order
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s", stream=sys.stderr
    )
    logging.getLogger("botocore").setLevel(logging.WARNING)
    started = time.monotonic()
    stop = _stop_on_signals()
    _fake_credentials()
    from userflow.local import bootstrap
    from userflow.local.aws import MotoServer
    from userflow.local.cors import cors_from_template
    from userflow.local.gateway import Gateway, GatewayServer, api_from_template
    from userflow.local.invoke import Invoker
    from userflow.local.provision import (
        DEFAULT_REGION,
        LOCAL_STACK_NAME,
        provision_stack,
        stack_resolver,
    )
    from userflow.local.stream_poller import StreamPoller, mappings_from_template
    from userflow.local.template import load_template
    from userflow.stack import state_file

    template_path = (args.template or default_template()).resolve()
    log.info("starting userflow local from %s", template_path)
    template = load_template(template_path)
    try:
        moto = MotoServer(args.moto_port, args.fail_rate)
        moto.start()
        stack = provision_stack(
            template_path, stack_name=LOCAL_STACK_NAME, region=DEFAULT_REGION, endpoint_url=moto.url
        )
        bootstrap.bootstrap(stack)
        invoker = Invoker(template, stack)
        cors = cors_from_template(template, {"AllowedOrigins": args.allowed_origins})
        gateway = Gateway(
            api_from_template(template), invoker.invoke, region=DEFAULT_REGION, cors=cors
        )
        gateway_server = GatewayServer(gateway, port=args.port)
    except OSError as error:
        print(f"userflow local: cannot listen: {error}", file=sys.stderr)
        return 1
    stack.api_url = gateway_server.url

    threads = [threading.Thread(target=gateway_server.serve_forever, name="gateway", daemon=True)]
    client = functools.cache(stack.client)
    for mapping in mappings_from_template(template, stack_resolver(template, stack)):
        if not mapping.enabled:
            continue
        poller = StreamPoller(
            mapping,
            invoke=functools.partial(invoker.invoke, mapping.function),
            function_arn=stack.resources[mapping.function]["arn"],
            streams_client=stack.client("dynamodbstreams"),
            destination_client=client,
            region=DEFAULT_REGION,
            stop=stop,
        )
        threads.append(
            threading.Thread(target=poller.run, name=f"poll-{mapping.function}", daemon=True)
        )
    functions = list(template.of_type("AWS::Serverless::Function"))
    threads.append(
        threading.Thread(target=invoker.warm_up, args=(functions,), name="warm-up", daemon=True)
    )
    for thread in threads:
        thread.start()

    state = {
        "stack_name": stack.name,
        "region": stack.region,
        "endpoint_url": stack.endpoint_url,
        "api_url": stack.api_url,
        "resources": stack.resources,
        "pid": os.getpid(),
    }
    path = state_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(state, indent=2))

    print(f"Userflow API:       {stack.api_url}", flush=True)
    print(f"Local AWS endpoint: {stack.endpoint_url} (region {stack.region})", flush=True)
    print(f"Stack state:        {path} (Ctrl-C stops)", flush=True)
    if args.fail_rate:
        print(f"Injected failures:  {args.fail_rate}", flush=True)
    log.info("userflow local ready in %.1f s", time.monotonic() - started)
    try:
        while not stop.wait(0.5):
            pass
    finally:
        _remove_state(path)
        gateway_server.shutdown()
        gateway_server.server_close()
        moto.stop()
        print("userflow local stopped", flush=True)
    return 0


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
