"""A Cognito user pool to migrate from, on moto (in-process or a local stack's server): signs in by
email, has a custom attribute, an app client allowing ADMIN_USER_PASSWORD_AUTH, and users in each
state lazy migration must tell apart."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

POOL_PASSWORD = "Cognito-Passw0rd!"
TEMPORARY_PASSWORD = "Temporary-Passw0rd!"


@dataclass(frozen=True)
class PoolIds:
    pool_id: str
    client_id: str

    def parameters(self) -> dict[str, str]:
        """The template parameters that turn lazy migration on for this pool."""
        return {
            "MigrateFromUserPoolId": self.pool_id,
            "MigrateFromUserPoolClientId": self.client_id,
        }


def create_pool(cognito: Any) -> PoolIds:
    """The pool, its client and its users (same calls, same ids under moto's HASH id strategy):
    carol (verified, plan pro), dave (unverified), erin (a temporary password: must change it),
    frank (disabled)."""
    pool = cognito.create_user_pool(
        PoolName="legacy-users",
        UsernameAttributes=["email"],
        Schema=[{"Name": "plan", "AttributeDataType": "String", "Mutable": True}],
    )["UserPool"]
    client = cognito.create_user_pool_client(
        UserPoolId=pool["Id"],
        ClientName="userflow-migration",
        GenerateSecret=False,
        ExplicitAuthFlows=["ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    )["UserPoolClient"]
    ids = PoolIds(pool["Id"], client["ClientId"])
    add_user(cognito, ids, "carol@example.com", verified=True, name="Carol Jones", plan="pro")
    add_user(cognito, ids, "dave@example.com", verified=False, name="Dave")
    add_user(cognito, ids, "erin@example.com", verified=True, name="Erin", permanent=False)
    add_user(cognito, ids, "frank@example.com", verified=True, name="Frank")
    cognito.admin_disable_user(UserPoolId=ids.pool_id, Username="frank@example.com")
    return ids


def add_user(
    cognito: Any,
    ids: PoolIds,
    email: str,
    *,
    verified: bool,
    name: str,
    plan: str | None = None,
    permanent: bool = True,
) -> None:
    attributes = [
        {"Name": "email", "Value": email},
        {"Name": "email_verified", "Value": "true" if verified else "false"},
        {"Name": "name", "Value": name},
        {"Name": "zoneinfo", "Value": "Europe/Paris"},
    ]
    if plan is not None:
        attributes.append({"Name": "custom:plan", "Value": plan})
    cognito.admin_create_user(
        UserPoolId=ids.pool_id,
        Username=email,
        UserAttributes=attributes,
        TemporaryPassword=TEMPORARY_PASSWORD,
        MessageAction="SUPPRESS",
    )
    if permanent:
        cognito.admin_set_user_password(
            UserPoolId=ids.pool_id, Username=email, Password=POOL_PASSWORD, Permanent=True
        )
