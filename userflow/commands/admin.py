"""`userflow admin grant EMAIL`: give a user the admin role (a normal, versioned user update)."""

from __future__ import annotations

import argparse
import json
import uuid
from typing import TYPE_CHECKING, Any

from userflow.errors import EXIT_FAILED, CommandError
from userflow.stack import add_stack_arguments, resolve_stack

if TYPE_CHECKING:
    from domain.users import User


def register(subparsers: Any) -> None:
    admin = subparsers.add_parser("admin", help="operator actions on user accounts")
    commands = admin.add_subparsers(dest="admin_command", required=True)
    grant = commands.add_parser("grant", help="give the user with this email the admin role")
    grant.add_argument("email")
    add_stack_arguments(grant)
    add_json_argument(grant)
    grant.set_defaults(run=run_grant)


def add_json_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--json", action="store_true", help="the outcome as one JSON object on stdout"
    )


def _no_cursor_key() -> bytes:
    raise RuntimeError("granting a role never lists users")


def run_grant(args: argparse.Namespace) -> int:
    from adapters.dynamodb_user_repository import DynamoDBUserRepository
    from domain.errors import InvalidInput
    from domain.passwords import PasswordHasher
    from domain.user_service import UserService
    from domain.users import Role

    stack = resolve_stack(args)
    stamp = WriteStamp()
    repository = DynamoDBUserRepository(
        stack.physical_id("UserRegistrationTable"),
        cursor_key=_no_cursor_key,
        db=stack.client("dynamodb"),
        request_id=stamp,
    )
    # The hasher is never used to grant a role; UserService needs one for its other use cases.
    service = UserService(repository, PasswordHasher())
    try:
        # Looked up in every stored form (accounts made before today's address rules included).
        user = service.grant_role(args.email, Role.ADMIN)
    except (InvalidInput, ValueError) as error:
        raise CommandError(f"grant: {error}", EXIT_FAILED) from None
    report_change(user, stamp.change_id, as_json=args.json)
    return 0


class WriteStamp:
    """The operator's action is the request behind a change: its id is stamped on the write and
    becomes the event's correlation_id, so the published event can be matched to this command.
    ``change_id`` is None when nothing was written: then no event is published either."""

    def __init__(self) -> None:
        self.request_id = f"userflow-admin-{uuid.uuid4()}"
        self.used = False

    def __call__(self) -> str:
        self.used = True
        return self.request_id

    @property
    def change_id(self) -> str | None:
        return self.request_id if self.used else None


def report_change(user: User, request_id: str | None, *, as_json: bool) -> None:
    """What the command did; the request id only when a change (and so an event) was made."""
    roles = [str(role) for role in user.roles]
    if as_json:
        document = {
            "user_id": user.id,
            "email": user.email,
            "roles": roles,
            "changed": request_id is not None,
            "request_id": request_id,
        }
        print(json.dumps(document))
    elif request_id is None:
        print(f"{user.email} ({user.id}) already has roles: {', '.join(roles)}; nothing changed,")
        print("so no event is published")
    else:
        print(f"{user.email} ({user.id}) now has roles: {', '.join(roles)}")
        print(f"request id (correlation_id of the UserUpdated event): {request_id}")
