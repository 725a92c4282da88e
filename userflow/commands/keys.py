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
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from adapters.key_store import (
    DEFAULT_RETAIN_RETIRED,
    ensure_signing_key,
    read_key_set,
    rotate_signing_keys,
)
from domain.tokens import SigningKeySet
from userflow.stack import Stack, add_stack_arguments, resolve_stack

if TYPE_CHECKING:
    from mypy_boto3_secretsmanager import SecretsManagerClient
    from mypy_boto3_ssm import SSMClient

# Logical ids in template.yaml.
KEY_SET_RESOURCE = "SigningKeySecret"
JWKS_RESOURCE = "JwksParameter"


def register(subparsers: Any) -> None:
    keys = subparsers.add_parser("keys", help="manage the access-token signing keys")
    commands = keys.add_subparsers(dest="keys_command", required=True)

    rotate = commands.add_parser("rotate", help="make a new signing key; retire the current one")
    add_stack_arguments(rotate)
    rotate.add_argument(
        "--retain-minutes",
        type=int,
        default=int(DEFAULT_RETAIN_RETIRED.total_seconds() // 60),
        help="keep retired keys published this long (default: %(default)s; 0 after a compromise)",
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
    return (
        stack.client("secretsmanager"),
        stack.client("ssm"),
        stack.physical_id(KEY_SET_RESOURCE),
        stack.physical_id(JWKS_RESOURCE),
    )


def run_rotate(args: argparse.Namespace) -> int:
    if args.retain_minutes < 0:
        raise SystemExit("--retain-minutes must not be negative")
    secrets, ssm, secret_id, parameter = key_locations(resolve_stack(args))
    key_set = rotate_signing_keys(
        secrets,
        ssm,
        secret_id=secret_id,
        parameter=parameter,
        now=datetime.now(UTC),
        retain_retired=timedelta(minutes=args.retain_minutes),
    )
    print(f"signing key is now {key_set.current.kid}; published keys: {len(key_set.keys)}")
    return 0


def ensure_keys(stack: Stack) -> SigningKeySet:
    """The stack's key set, created on first use; its JWKS is (re)published either way."""
    secrets, ssm, secret_id, parameter = key_locations(stack)
    return ensure_signing_key(
        secrets, ssm, secret_id=secret_id, parameter=parameter, now=datetime.now(UTC)
    )


def run_ensure(args: argparse.Namespace) -> int:
    key_set = ensure_keys(resolve_stack(args))
    print(f"signing key is {key_set.current.kid}; published keys: {len(key_set.keys)}")
    return 0


def run_list(args: argparse.Namespace) -> int:
    secrets, _, secret_id, _ = key_locations(resolve_stack(args))
    key_set = read_key_set(secrets, secret_id)
    if key_set is None:
        print("no signing key yet: run `userflow keys ensure`")
        return 1
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
    return 0
