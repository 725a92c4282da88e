"""`userflow keys rotate|activate|ensure|list`: the ES256 keys that sign access tokens.

A key change has two steps, so that no verifier ever meets a token signed by a key its cached JWKS
lacks: `keys rotate` *stages* a new key (published in the JWKS at once, not signing), and `keys
activate` makes it sign once it has been published for the verifiers' JWKS cache lifetime (the
stack's JwksCacheSeconds, 300 s by default) and a margin. The retired key stays published until the
last token it signed has expired. The scheduled rotation (every 30 days) does both steps in order:
it activates the key staged before and stages the next. `keys ensure` (run by `make deploy` after
every deploy, and by `userflow local` at start) creates the first key and afterwards only
re-publishes the JWKS of the keys there are.

After a key compromise, `keys rotate --retain-minutes 0` replaces every key at once: the new key
signs before verifiers know it, and the output says who still accepts the old tokens until when.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from userflow.errors import EXIT_FAILED, EXIT_USAGE, CommandError
from userflow.key_changes import activate_staged_key, replace_every_key, stage_key
from userflow.signing_keys import (
    KeyLocations,
    all_keys,
    ensure_keys,
    iso,
    jwks_problem,
    key_line,
    key_set_document,
)
from userflow.stack import add_stack_arguments, resolve_stack

if TYPE_CHECKING:
    pass


def _minutes(text: str) -> int:
    try:
        minutes = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number of minutes: {text!r}") from None
    if minutes < 0:
        raise argparse.ArgumentTypeError("must not be negative")
    return minutes


def _clock(moment: datetime) -> str:
    return moment.strftime("%H:%M:%S UTC")


def _emit(as_json: bool, document: dict[str, Any], lines: list[str]) -> None:
    print(json.dumps(document) if as_json else "\n".join(lines), flush=True)


# ---------------------------------------------------------------- rotate: stage (or emergency)
def run_rotate(args: argparse.Namespace) -> int:
    if args.retain_minutes not in (None, 0):
        raise CommandError(
            "`keys rotate` stages a key; how long the key it replaces stays published is set "
            "when the staged key signs: `userflow keys activate --retain-minutes N` (0 here "
            "means an emergency: every key replaced at once)",
            EXIT_USAGE,
        )
    keys = KeyLocations.of(resolve_stack(args))
    if args.retain_minutes == 0:
        return _emergency(keys, args.json)
    change = stage_key(keys)
    key, signs_from = change.staged
    replaced = change.previous.staged
    document = {
        "staged": key.kid,
        "signs_from": iso(signs_from),
        "replaced_staged": replaced.kid if replaced else None,
        "signing": change.current.current.kid,
        "jwks_cache_seconds": keys.jwks_cache_seconds,
    }
    lines = [
        f"staged {key.kid}: published in the JWKS now, not signing yet"
        + (f" (replaces staged {replaced.kid}, which never signed)" if replaced else ""),
        f"it may sign from {_clock(signs_from)}, once every verifier's cached JWKS holds it"
        f" (they cache it for {keys.jwks_cache_seconds} s)",
        "then: `userflow keys activate` (or `keys activate --wait` now); the next scheduled "
        "rotation activates it otherwise",
    ]
    _emit(args.json, document, lines)
    return 0


def _emergency(keys: KeyLocations, as_json: bool) -> int:
    """Every key replaced at once (a compromise): the new key signs now, the others leave the
    JWKS. Who still accepts their tokens, and until when, is said plainly."""
    from adapters.key_store import SIGNER_CACHE_SECONDS
    from domain.tokens import MAX_ACCESS_TTL_SECONDS

    change = replace_every_key(keys)
    previous, replaced, stored = change.previous, change.current, change.stored_at
    next_key, next_signs_from = change.staged
    dropped = [k.kid for k in (*previous.keys, previous.staged) if k is not None]
    cache = timedelta(seconds=keys.jwks_cache_seconds)
    signers_stop = stored + timedelta(seconds=SIGNER_CACHE_SECONDS)
    tokens_expire = signers_stop + timedelta(seconds=MAX_ACCESS_TTL_SECONDS)
    document = {
        "emergency": True,
        "signing": replaced.current.kid,
        "staged": next_key.kid,
        "dropped": dropped,
        "signers_stop_using_dropped_by": iso(signers_stop),
        "this_stack_refuses_dropped_by": iso(stored + cache),
        "caching_verifiers_refuse_dropped_by": iso(stored + cache),
        "dropped_tokens_expire_by": iso(tokens_expire),
        "new_key_may_be_refused_until": iso(stored + cache),
    }
    lines = [
        f"EMERGENCY: {replaced.current.kid} signs from now; {', '.join(dropped)} left the "
        "published JWKS.",
        "Who may still accept tokens signed with the dropped keys, and until when:",
        f"  - this stack's API (its authorizer) and JWKS route: until {_clock(stored + cache)}"
        f" (they cache the JWKS for {keys.jwks_cache_seconds} s);",
        "  - other verifiers that honour the JWKS route's Cache-Control (max-age="
        f"{keys.jwks_cache_seconds}): until {_clock(stored + cache)};",
        "  - verifiers that keep keys longer (ignoring Cache-Control, or configured by hand): "
        f"until the tokens expire, {_clock(tokens_expire)} at the latest (tokens live"
        f" {MAX_ACCESS_TTL_SECONDS // 60} min at most, and login and refresh may sign with the"
        f" old key until {_clock(signers_stop)}).",
        f"Tokens signed with {replaced.current.kid} may be refused until {_clock(stored + cache)} "
        "by verifiers whose cached JWKS lacks it (this stack's authorizer re-reads the JWKS for "
        "an unknown key): clients that are refused log in again.",
        f"Next key staged: {next_key.kid} (may sign from {_clock(next_signs_from)}).",
    ]
    _emit(as_json, document, lines)
    _wait_until_no_signer_holds(previous.current.kid, signers_stop, quiet=as_json)
    return 0


def _wait_until_no_signer_holds(kid: str, until: datetime, *, quiet: bool) -> None:
    """Signers still holding the cached key set would sign with the dropped key: the command
    returns only once no one can."""
    seconds = max(0.0, (until - datetime.now(UTC)).total_seconds())
    print(f"waiting {seconds:.0f} s until no signer holds {kid}...", file=sys.stderr, flush=True)
    time.sleep(seconds + 1)
    if not quiet:
        print(f"no new token is signed with {kid} from now on")


# ---------------------------------------------------------------- activate
def run_activate(args: argparse.Namespace) -> int:
    from adapters.key_store import DEFAULT_RETAIN_RETIRED, SIGNER_CACHE_SECONDS
    from domain.signing_keys import KeyNotReady, NothingStaged
    from domain.tokens import MAX_ACCESS_TTL_SECONDS

    keys = KeyLocations.of(resolve_stack(args))
    retain = (
        DEFAULT_RETAIN_RETIRED
        if args.retain_minutes is None
        else timedelta(minutes=args.retain_minutes)
    )
    while True:
        now = datetime.now(UTC)
        try:
            change = activate_staged_key(keys, retain)
        except NothingStaged:
            raise CommandError("no key is staged: run `userflow keys rotate` first") from None
        except KeyNotReady as error:
            signs_from = error.key.signs_from or now
            if not args.wait:
                raise CommandError(
                    f"not yet: {error}, when every verifier's cached JWKS holds it; run again "
                    f"then, or with --wait (in {(signs_from - now).total_seconds():.0f} s)"
                ) from None
            print(f"waiting until {_clock(signs_from)} for {error.key.kid}...", file=sys.stderr)
            time.sleep(max(0.0, (signs_from - now).total_seconds()) + 0.5)
            continue
        break
    previous, successor, stored = change.previous, change.current, change.stored_at
    old = next((k for k in successor.keys if k.kid == previous.current.kid), None)
    next_key, next_signs_from = change.staged
    signers_switch = stored + timedelta(seconds=SIGNER_CACHE_SECONDS)
    document = {
        "signing": successor.current.kid,
        "retired": previous.current.kid,
        "retired_published_until": iso(old.expires_at if old else None),
        "signers_use_it_by": iso(signers_switch),
        "staged": next_key.kid,
        "staged_signs_from": iso(next_signs_from),
    }
    lines = [
        f"{successor.current.kid} signs from now: login and refresh use it by "
        f"{_clock(signers_switch)} at the latest (they cache the key set for "
        f"{SIGNER_CACHE_SECONDS} s)",
        f"{previous.current.kid} is retired: "
        + (
            f"published until {_clock(old.expires_at)}"
            if old and old.expires_at
            else "dropped from the JWKS now (--retain-minutes 0)"
        ),
        f"next key staged: {next_key.kid}, may sign from {_clock(next_signs_from)}",
    ]
    last_token_expires = signers_switch + timedelta(seconds=MAX_ACCESS_TTL_SECONDS)
    if old is None or (old.expires_at and old.expires_at < last_token_expires):
        lines.append(
            f"warning: tokens {previous.current.kid} signed are refused before they expire "
            f"(the last may live until {_clock(last_token_expires)}): their holders log in again"
        )
    _emit(args.json, document, lines)
    return 0


# ---------------------------------------------------------------- ensure, list
def run_ensure(args: argparse.Namespace) -> int:
    key_set = ensure_keys(resolve_stack(args))
    document = key_set_document(key_set)
    staged = f"; staged: {key_set.staged.kid}" if key_set.staged else ""
    lines = [
        f"signing key is {key_set.current.kid}{staged}; published keys: {len(all_keys(key_set))}"
    ]
    _emit(args.json, document, lines)
    return 0


def run_list(args: argparse.Namespace) -> int:
    keys = KeyLocations.of(resolve_stack(args))
    key_set = keys.read()
    problem = jwks_problem(keys.ssm, keys.parameter, key_set)
    document = {**key_set_document(key_set), "jwks_problem": problem}
    lines = [key_line(key, key_set) for key in all_keys(key_set)]
    _emit(args.json, document, lines)
    if problem is not None:
        raise CommandError(f"{problem}: run `userflow keys ensure` to publish it", EXIT_FAILED)
    return 0


# ---------------------------------------------------------------- command line
def register(subparsers: Any) -> None:
    keys = subparsers.add_parser(
        "keys", help="manage the access-token signing keys", description=__doc__
    )
    commands = keys.add_subparsers(dest="keys_command", required=True)

    rotate = commands.add_parser(
        "rotate",
        help="stage a new signing key (published now, signing once activated)",
        description="Stages a new signing key: published in the JWKS now, signing only after "
        "`userflow keys activate`, once every verifier's cached JWKS holds it. "
        "With --retain-minutes 0 (a compromised key) every key is replaced at once instead, and "
        "the output says who still accepts the old tokens until when; the command returns once "
        "no signer can use the old key.",
    )
    rotate.add_argument(
        "--retain-minutes",
        type=_minutes,
        default=None,
        help="0: emergency, replace every key now (set retention on `keys activate`)",
    )
    activate = commands.add_parser(
        "activate",
        help="make the staged key sign (once verifiers know it); stage its successor",
        description="Makes the staged key the signing key, if it has been published for the "
        "JWKS cache lifetime (exit 1 naming the time otherwise; --wait waits for it). The old "
        "key stays published until the last token it signed has expired; a successor is "
        "staged for the next rotation.",
    )
    activate.add_argument(
        "--retain-minutes",
        type=_minutes,
        default=None,
        help="keep the retired key published this long (default: until every token it signed "
        "has expired, 25 min)",
    )
    activate.add_argument(
        "--wait", action="store_true", help="wait until the staged key may sign, then activate"
    )
    ensure = commands.add_parser(
        "ensure", help="create the first signing key unless there is one (run after each deploy)"
    )
    listing = commands.add_parser(
        "list", help="key ids, states and dates (never key material); checks the published JWKS"
    )
    for parser, run in (
        (rotate, run_rotate),
        (activate, run_activate),
        (ensure, run_ensure),
        (listing, run_list),
    ):
        add_stack_arguments(parser)
        parser.add_argument(
            "--json", action="store_true", help="the outcome as one JSON object on stdout"
        )
        parser.set_defaults(run=run)
