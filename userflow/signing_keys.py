"""A stack's signing keys as the operator tools see them: where they are kept, how long the
stack's verifiers may cache the JWKS, the first key (:func:`ensure_keys`, after each deploy and
when the local stack starts) and how a key set reads (states, dates, the published JWKS checked
against it). `userflow keys` (``userflow.commands.keys``) is the command line."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from userflow.errors import EXIT_FAILED, CommandError
from userflow.stack import Stack

if TYPE_CHECKING:
    from mypy_boto3_secretsmanager import SecretsManagerClient
    from mypy_boto3_ssm import SSMClient

    from domain.signing_keys import SigningKeySet, StoredKey

# Logical ids in template.yaml; the JWKS parameter is named by the stack, not a stack resource
# (adapters/key_store.py, jwks_parameter_name).
KEY_SET_RESOURCE = "SigningKeySecret"
ROTATION_FUNCTION = "KeyRotationFunction"


@dataclass
class KeyLocations:
    """Where a stack keeps its keys, and how long its verifiers may cache the JWKS."""

    secrets: SecretsManagerClient
    ssm: SSMClient
    secret_id: str
    parameter: str
    jwks_cache_seconds: int

    @classmethod
    def of(cls, stack: Stack) -> KeyLocations:
        from adapters.key_store import jwks_parameter_name

        return cls(
            stack.client("secretsmanager"),
            stack.client("ssm"),
            stack.physical_id(KEY_SET_RESOURCE),
            jwks_parameter_name(stack.name),
            jwks_cache_seconds(stack),
        )

    @property
    def ahead(self) -> timedelta:
        from adapters.key_store import publish_ahead

        return publish_ahead(self.jwks_cache_seconds)

    def read(self) -> SigningKeySet:
        from adapters.key_store import read_key_set

        key_set = read_key_set(self.secrets, self.secret_id)
        if key_set is None:
            raise CommandError("no signing key yet: run `userflow keys ensure`", EXIT_FAILED)
        return key_set

    def store(self, key_set: SigningKeySet) -> None:
        from adapters.key_store import store_key_set

        store_key_set(
            self.secrets,
            self.ssm,
            secret_id=self.secret_id,
            parameter=self.parameter,
            key_set=key_set,
        )


def ensure_keys(stack: Stack) -> SigningKeySet:
    """The stack's key set, created on first use; its JWKS is (re)published either way."""
    from adapters.key_store import ensure_signing_key

    keys = KeyLocations.of(stack)
    return ensure_signing_key(
        keys.secrets,
        keys.ssm,
        secret_id=keys.secret_id,
        parameter=keys.parameter,
        now=datetime.now(UTC),
        ahead=keys.ahead,
    )


def jwks_cache_seconds(stack: Stack) -> int:
    """The stack's JwksCacheSeconds as its rotation function has it; 300 s (the most the
    Parameters and Secrets extension caches) when it cannot be read."""
    from botocore.exceptions import ClientError

    from adapters.key_store import CACHE_SECONDS
    from userflow.functions import function_environment_of

    value = None
    try:
        value = function_environment_of(stack, ROTATION_FUNCTION).get("JWKS_CACHE_SECONDS")
    except KeyError:
        pass  # a template without the rotation function (a test stack): the default
    except (ClientError, CommandError) as error:
        print(
            f"note: {ROTATION_FUNCTION}'s settings unreadable ({error}): taking the JWKS cache "
            f"lifetime as {CACHE_SECONDS} s, the most it can be",
            file=sys.stderr,
        )
    try:
        return min(int(value or CACHE_SECONDS), CACHE_SECONDS)
    except ValueError:
        return CACHE_SECONDS


def iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def all_keys(key_set: SigningKeySet) -> list[StoredKey]:
    return [*key_set.keys, *([key_set.staged] if key_set.staged else [])]


def key_state(key: StoredKey, key_set: SigningKeySet) -> str:
    if key is key_set.current:
        return "signing"
    return "staged" if key is key_set.staged else "retired"


def key_set_document(key_set: SigningKeySet) -> dict[str, Any]:
    return {
        "keys": [
            {
                "kid": key.kid,
                "state": key_state(key, key_set),
                "created_at": iso(key.created_at),
                "signs_from": iso(key.signs_from),
                "retired_at": iso(key.retired_at),
                "expires_at": iso(key.expires_at),
            }
            for key in all_keys(key_set)
        ]
    }


def key_line(key: StoredKey, key_set: SigningKeySet) -> str:
    state = key_state(key, key_set)
    when = {
        "signing": f"created {key.created_at:%Y-%m-%d %H:%M:%S} UTC",
        "staged": f"published, may sign from {key.signs_from or key.created_at:%Y-%m-%d %H:%M:%S}"
        " UTC",
        "retired": f"published until {key.expires_at or key.created_at:%Y-%m-%d %H:%M:%S} UTC",
    }[state]
    return f"{key.kid}  {state:<8} {when}"


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
