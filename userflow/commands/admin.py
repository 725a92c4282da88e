"""`userflow admin grant EMAIL`: give a user the admin role (a normal, versioned user update);
`userflow admin reset-mfa EMAIL`: turn a user's second factor off (the lost-phone path)."""

from __future__ import annotations

import argparse
import uuid
from typing import Any

from userflow.errors import EXIT_FAILED, CommandError
from userflow.stack import add_stack_arguments, resolve_stack


def register(subparsers: Any) -> None:
    admin = subparsers.add_parser("admin", help="operator actions on user accounts")
    commands = admin.add_subparsers(dest="admin_command", required=True)
    grant = commands.add_parser("grant", help="give the user with this email the admin role")
    grant.add_argument("email")
    add_stack_arguments(grant)
    grant.set_defaults(run=run_grant)
    register_reset_mfa(commands)


def _no_cursor_key() -> bytes:
    raise RuntimeError("granting a role never lists users")


def run_grant(args: argparse.Namespace) -> int:
    from adapters.dynamodb_user_repository import DynamoDBUserRepository
    from domain.errors import InvalidInput
    from domain.passwords import PasswordHasher
    from domain.user_service import UserService
    from domain.users import Role

    stack = resolve_stack(args)
    # The operator's action is the request behind the change: its id becomes the event's
    # correlation_id, so the published UserUpdated can be matched to this command.
    request_id = f"userflow-admin-{uuid.uuid4()}"
    repository = DynamoDBUserRepository(
        stack.physical_id("UserRegistrationTable"),
        cursor_key=_no_cursor_key,
        db=stack.client("dynamodb"),
        request_id=lambda: request_id,
    )
    # The hasher is never used to grant a role; UserService needs one for its other use cases.
    service = UserService(repository, PasswordHasher())
    try:
        # Looked up in every stored form (accounts made before today's address rules included).
        user = service.grant_role(args.email, Role.ADMIN)
    except (InvalidInput, ValueError) as error:
        raise CommandError(f"grant: {error}", EXIT_FAILED) from None
    print(f"{user.email} ({user.id}) now has roles: {', '.join(user.roles)}")
    print(f"request id (correlation_id of the event): {request_id}")
    return 0


# ---------------------------------------------------------------- reset-mfa (issue 21)
def register_reset_mfa(commands: Any) -> None:
    reset = commands.add_parser(
        "reset-mfa",
        help="turn off the second factor of the user with this email (lost phone): ends their "
        "sessions and mails them",
    )
    reset.add_argument("email")
    add_stack_arguments(reset)
    reset.set_defaults(run=run_reset_mfa)


def run_reset_mfa(args: argparse.Namespace) -> int:
    from adapters.dynamodb_user_repository import DynamoDBUserRepository
    from domain.errors import InvalidInput
    from domain.mfa import MfaService
    from domain.mfa_crypto import MfaKeys

    stack = resolve_stack(args)
    request_id = f"userflow-admin-{uuid.uuid4()}"
    repository = DynamoDBUserRepository(
        stack.physical_id("UserRegistrationTable"),
        cursor_key=_no_cursor_key,
        db=stack.client("dynamodb"),
        request_id=lambda: request_id,
    )

    def no_step_up(*_: object) -> None:
        raise RuntimeError("an operator's reset needs no step-up")

    def no_key() -> bytes:
        raise RuntimeError("a reset reads no secret")

    service = MfaService(users=repository, keys=MfaKeys(no_key), issuer="-", step_up=no_step_up)
    try:
        user, changed = service.reset_by_operator(args.email)
    except (InvalidInput, ValueError) as error:
        raise CommandError(f"reset-mfa: {error}", EXIT_FAILED) from None
    if not changed:
        print(f"{user.email} ({user.id}) has no second factor: nothing to reset")
        return 0
    print(f"{user.email} ({user.id}): second factor off, sessions ended, user mailed")
    print(f"request id (correlation_id of the event): {request_id}")
    return 0
