"""`userflow fail-rate [OP=RATE,...]`: show or change the running local stack's injected failures.

The local stack (`userflow local --fail-rate ...`) reads its rates from a control file next to its
state file whenever the file changes; this command rewrites that file, so a drill can turn faults
off (`userflow fail-rate putevents=0`) and then empty the dead-letter queues with
`userflow dlq replay`. Exit codes: 0 done, 2 no local stack is running or invalid rates.
"""

from __future__ import annotations

import argparse
from typing import Any

from samlocal.faults import format_fail_rates, parse_fail_rates
from userflow.errors import EXIT_USAGE, CommandError
from userflow.local_state import fail_rate_file, running_local_state


def _rates(text: str) -> dict[str, float]:
    try:
        return parse_fail_rates("" if text.strip() == "none" else text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "fail-rate",
        help="show or change the running local stack's injected failures",
        description=__doc__,
    )
    parser.add_argument(
        "rates",
        nargs="?",
        type=_rates,
        metavar="OP=RATE[,...]",
        help="new rates, e.g. putevents=0 (none: show the current ones)",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    state = running_local_state()
    path = fail_rate_file()
    if state is None or not path.exists():
        raise CommandError("no local stack is running (start one: userflow local)", EXIT_USAGE)
    target = f"local stack {state['stack_name']} (pid {state['pid']})"
    current = path.read_text().strip()
    if args.rates is None:
        print(f"{target}: injected failures {current}")
        return 0
    new = format_fail_rates(args.rates)
    path.write_text(new + "\n")
    print(f"{target}: injected failures {new} (were {current})")
    return 0
