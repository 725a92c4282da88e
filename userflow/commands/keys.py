"""`userflow keys rotate|ensure|list`: the ES256 keys that sign access tokens.

The template creates the secret without key material: `userflow keys ensure` (run by
`make deploy` after every deploy, and by `userflow local` at start) creates the first key and
afterwards only re-publishes the JWKS of the keys there are (a template update may have reset the
parameter); `userflow keys rotate` makes a new key whenever it should change. Retired keys
stay in the public JWKS for ``--retain-minutes`` so that tokens they signed keep working until
they expire, and are refused after that even if no rotation follows; ``0`` drops them at once
(after a key compromise: every token in flight is then rejected once the verifiers' JWKS cache,
5 minutes, has expired).
"""

from __future__ import annotations

import argparse
import json
import time
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from userflow.errors import EXIT_FAILED, CommandError
from userflow.stack import Stack, add_stack_arguments, resolve_stack

if TYPE_CHECKING:
    from mypy_boto3_secretsmanager import SecretsManagerClient
    from mypy_boto3_ssm import SSMClient

    from domain.tokens import SigningKeySet

# Logical id in template.yaml; the JWKS parameter is named by the stack (adapters/key_store.py).
KEY_SET_RESOURCE = "SigningKeySecret"


def _minutes(text: str) -> int:
    try:
        minutes = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number of minutes: {text!r}") from None
    if minutes < 0:
        raise argparse.ArgumentTypeError("must not be negative")
    return minutes


def register(subparsers: Any) -> None:
    keys = subparsers.add_parser(
        "keys", help="manage the access-token signing keys", description=__doc__
    )
    commands = keys.add_subparsers(dest="keys_command", required=True)

    rotate = commands.add_parser(
        "rotate",
        help="make a new signing key; retire the current one",
        description="Makes a new signing key now, publishing it before it signs. Login and "
        "refresh cache the key set briefly, so the output says when they sign with the new key. "
        "With --retain-minutes 0 (a compromised key) the command waits until no signer can "
        "still use the dropped key.",
    )
    add_stack_arguments(rotate)
    rotate.add_argument(
        "--retain-minutes",
        type=_minutes,
        default=None,
        help="keep retired keys published this long (default: until every token they signed "
        "has expired; 0 after a compromise: dropped at once)",
    )
    rotate.set_defaults(run=run_rotate)

    ensure = commands.add_parser(
        "ensure", help="create the first signing key unless there is one (run after each deploy)"
    )
    add_stack_arguments(ensure)
    ensure.set_defaults(run=run_ensure)

    listing = commands.add_parser("list", help="show key ids and dates (never key material)")
    add_stack_arguments(listing)
    listing.set_defaults(run=run_list)


def key_locations(stack: Stack) -> tuple[SecretsManagerClient, SSMClient, str, str]:
    """Secrets Manager and SSM clients, the key set's secret id and the JWKS parameter name."""
    from adapters.key_store import jwks_parameter_name

    return (
        stack.client("secretsmanager"),
        stack.client("ssm"),
        stack.physical_id(KEY_SET_RESOURCE),
        jwks_parameter_name(stack.name),
    )


def run_rotate(args: argparse.Namespace) -> int:
    from adapters import key_store

    secrets, ssm, secret_id, parameter = key_locations(resolve_stack(args))
    retain = (
        key_store.DEFAULT_RETAIN_RETIRED
        if args.retain_minutes is None
        else timedelta(minutes=args.retain_minutes)
    )
    previous = key_store.read_key_set(secrets, secret_id)
    key_set = key_store.rotate_signing_keys(
        secrets,
        ssm,
        secret_id=secret_id,
        parameter=parameter,
        now=datetime.now(UTC),
        retain_retired=retain,
    )
    now = datetime.now(UTC)  # the new key set is stored: signers' caches expire from here
    # Read at call time: tests shorten it.
    lag = timedelta(seconds=key_store.SIGNER_CACHE_SECONDS)
    print(f"signing key is now {key_set.current.kid}; published keys: {len(key_set.keys)}")
    print(
        f"login and refresh sign with it from {_clock(now + lag)} at the latest "
        f"(they cache the key set for {lag.seconds} s)"
    )
    kept = {key.kid for key in key_set.keys}
    if previous is not None and previous.current.kid not in kept:
        _wait_until_no_signer_holds(previous.current.kid, now, lag, key_store.CACHE_SECONDS)
    return 0


def _wait_until_no_signer_holds(
    kid: str, rotated_at: datetime, lag: timedelta, verifier_cache_seconds: int
) -> None:
    """A key that signed until now was dropped (a compromise): signers still holding the cached
    key set would sign with it, so the command returns only once no one can."""
    print(f"dropped {kid} at once; waiting {lag.seconds} s until no signer holds it...", flush=True)
    time.sleep(max(0.0, (rotated_at + lag - datetime.now(UTC)).total_seconds()) + 1)
    refused_by = _clock(rotated_at + timedelta(seconds=verifier_cache_seconds))
    print(
        f"no new token is signed with {kid}; verifiers refuse the tokens it signed by "
        f"{refused_by} at the latest (they cache the JWKS for {verifier_cache_seconds // 60} min)"
    )


def _clock(moment: datetime) -> str:
    return moment.strftime("%H:%M:%S UTC")


def ensure_keys(stack: Stack) -> SigningKeySet:
    """The stack's key set, created on first use; its JWKS is (re)published either way."""
    from adapters.key_store import ensure_signing_key

    secrets, ssm, secret_id, parameter = key_locations(stack)
    return ensure_signing_key(
        secrets, ssm, secret_id=secret_id, parameter=parameter, now=datetime.now(UTC)
    )


def run_ensure(args: argparse.Namespace) -> int:
    key_set = ensure_keys(resolve_stack(args))
    print(f"signing key is {key_set.current.kid}; published keys: {len(key_set.keys)}")
    return 0


def run_list(args: argparse.Namespace) -> int:
    from adapters.key_store import read_key_set

    secrets, ssm, secret_id, parameter = key_locations(resolve_stack(args))
    key_set = read_key_set(secrets, secret_id)
    if key_set is None:
        raise CommandError("no signing key yet: run `userflow keys ensure`", EXIT_FAILED)
    for key in key_set.keys:
        print(
            json.dumps(
                {
                    "kid": key.kid,
                    "created_at": key.created_at.isoformat(),
                    "retired_at": key.retired_at.isoformat() if key.retired_at else None,
                    "expires_at": key.expires_at.isoformat() if key.expires_at else None,
                    "signing": key is key_set.current,
                }
            )
        )
    problem = jwks_problem(ssm, parameter, key_set)
    if problem is not None:
        raise CommandError(f"{problem}: run `userflow keys ensure` to publish it", EXIT_FAILED)
    return 0


def jwks_problem(ssm: SSMClient, parameter: str, key_set: SigningKeySet) -> str | None:
    """What keeps verifiers (which read the published JWKS, never the secret) from checking the
    key set's tokens: an unreadable parameter, or a verifying key missing from it."""
    try:
        published = json.loads(ssm.get_parameter(Name=parameter)["Parameter"]["Value"])
        kids = {str(key["kid"]) for key in published["keys"]}
    except ssm.exceptions.ParameterNotFound:
        return f"the JWKS parameter {parameter} does not exist"
    except (ValueError, KeyError, TypeError):
        return f"the JWKS parameter {parameter} is not a JWKS"
    missing = sorted({str(key["kid"]) for key in key_set.public_jwks()["keys"]} - kids)
    if missing:
        return f"the JWKS parameter {parameter} lacks key(s) {', '.join(missing)}"
    return None
