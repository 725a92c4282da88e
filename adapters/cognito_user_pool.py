"""UserPool (domain/user_migration.py) on an Amazon Cognito user pool: the pool a deployer moves
users over from (template parameters MigrateFromUserPoolId / MigrateFromUserPoolClientId).

The password is checked with ``AdminInitiateAuth`` (``ADMIN_USER_PASSWORD_AUTH``: the app client
must allow that flow and have no secret), the attributes read with ``AdminGetUser``; the pool must
sign users in by email (email as username or alias). The tokens Cognito returns are dropped.

A pool that fails to answer (throttled, unreachable) is logged as an error and taken as a refusal:
the caller sees today's unknown user, never an answer that differs with the address.
"""

from __future__ import annotations

import logging
import os
from datetime import datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from adapters.aws_clients import client
from domain.pool_user import PoolUser

if TYPE_CHECKING:
    from mypy_boto3_cognito_idp import CognitoIdentityProviderClient


NOT_MOVABLE = frozenset(
    {
        "NotAuthorizedException",  # wrong password, or a disabled user
        "UserNotFoundException",
        "UserNotConfirmedException",
        "PasswordResetRequiredException",
        "InvalidParameterException",  # e.g. an address the pool cannot take as a username
    }
)
"""Answers that mean "this pool will not vouch for this user": as unknown here."""
CUSTOM_PREFIX = "custom:"


class CognitoUserPool:
    def __init__(
        self, pool_id: str, client_id: str, cognito: CognitoIdentityProviderClient | None = None
    ) -> None:
        self._pool_id = pool_id
        self._client_id = client_id
        self._cognito = cognito

    def authenticate(self, email: str, password: str) -> PoolUser | None:
        answer = self._call(
            "AdminInitiateAuth",
            lambda cognito: cognito.admin_initiate_auth(
                UserPoolId=self._pool_id,
                ClientId=self._client_id,
                AuthFlow="ADMIN_USER_PASSWORD_AUTH",
                AuthParameters={"USERNAME": email, "PASSWORD": password},
            ),
        )
        if answer is None or "AuthenticationResult" not in answer:
            # A challenge (the pool's MFA, a temporary password to replace): the password alone
            # does not let this user in there, so it does not here either; forgot-password does.
            return None
        return self.find(email)

    def find(self, email: str) -> PoolUser | None:
        answer = self._call(
            "AdminGetUser",
            lambda cognito: cognito.admin_get_user(UserPoolId=self._pool_id, Username=email),
        )
        if answer is None or not answer.get("Enabled", True):
            return None
        return _pool_user(answer)

    def _call(self, operation: str, call: Any) -> Any:
        """The answer; None when the pool will not vouch for the user, or failed to answer."""
        cognito = self._cognito or client("cognito-idp")
        try:
            return call(cognito)
        except ClientError as error:
            code = error.response["Error"]["Code"]
            if code not in NOT_MOVABLE:
                _logger().error("Cognito %s failed: %s", operation, code)
            return None
        except BotoCoreError as error:
            _logger().error("Cognito %s failed: %s", operation, type(error).__name__)
            return None


def _logger() -> logging.Logger:
    """Powertools' Logger logs through the standard logger of its service name."""
    return logging.getLogger(os.environ.get("POWERTOOLS_SERVICE_NAME", "service"))


def _pool_user(answer: dict[str, Any]) -> PoolUser | None:
    attributes = {a["Name"]: a.get("Value", "") for a in answer.get("UserAttributes", [])}
    email = attributes.get("email")
    if not email:
        return None
    name = attributes.get("name") or " ".join(
        filter(None, (attributes.get("given_name"), attributes.get("family_name")))
    )
    created = answer.get("UserCreateDate")
    return PoolUser(
        pool_user_id=attributes.get("sub") or str(answer.get("Username", "")),
        email=email,
        email_verified=attributes.get("email_verified") == "true",
        name=name or None,
        phone=attributes.get("phone_number"),
        locale=attributes.get("locale"),
        timezone=attributes.get("zoneinfo"),
        created_at=created if isinstance(created, datetime) else None,
        attributes={
            name.removeprefix(CUSTOM_PREFIX): value
            for name, value in attributes.items()
            if name.startswith(CUSTOM_PREFIX)
        },
    )
