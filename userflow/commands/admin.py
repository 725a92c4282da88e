"""`userflow admin grant EMAIL`: give a user the admin role (a normal, versioned user update)."""

from __future__ import annotations

import argparse
from typing import Any

from adapters.dynamodb_user_repository import DynamoDBUserRepository
from domain.email_address import normalize_email
from domain.errors import InvalidInput
from domain.passwords import PasswordHasher
from domain.user_service import UserService
from domain.users import Role
from userflow.stack import add_stack_arguments, resolve_stack


def register(subparsers: Any) -> None:
    admin = subparsers.add_parser("admin", help="operator actions on user accounts")
    commands = admin.add_subparsers(dest="admin_command", required=True)
    grant = commands.add_parser("grant", help="give the user with this email the admin role")
    grant.add_argument("email")
    add_stack_arguments(grant)
    grant.set_defaults(run=run_grant)


def _no_cursor_key() -> bytes:
    raise RuntimeError("granting a role never lists users")


def run_grant(args: argparse.Namespace) -> int:
    stack = resolve_stack(args)
    repository = DynamoDBUserRepository(
        stack.physical_id("UserRegistrationTable"),
        cursor_key=_no_cursor_key,
        db=stack.client("dynamodb"),
    )
    # The hasher is never used to grant a role; UserService needs one for its other use cases.
    service = UserService(repository, PasswordHasher())
    try:
        user = service.grant_role(normalize_email(args.email), Role.ADMIN)
    except (InvalidInput, ValueError) as error:
        print(f"userflow admin grant: {error}")
        return 1
    print(f"{user.email} ({user.id}) now has roles: {', '.join(user.roles)}")
    return 0
