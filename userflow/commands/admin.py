"""`userflow admin grant|revoke|unlock|reset-mfa`: operator actions on accounts
(domain/admin_service.py; reset-mfa: domain/mfa.py).

Each is a normal user write (a version, a UserUpdated event with this command's request id as its
correlation id), except unlock, which only clears login bookkeeping.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
import uuid
from typing import TYPE_CHECKING, Any

from userflow.errors import EXIT_FAILED, EXIT_USAGE, CommandError
from userflow.stack import add_stack_arguments, resolve_stack

if TYPE_CHECKING:
    from domain.actors import Actor
    from domain.users import User

ROLES = ("admin", "user")


def register(subparsers: Any) -> None:
    admin = subparsers.add_parser("admin", help="operator actions on user accounts")
    commands = admin.add_subparsers(dest="admin_command", required=True)
    grant = commands.add_parser(
        "grant", help="give the user with this email the admin role (verified addresses only)"
    )
    grant.add_argument("email")
    grant.add_argument(
        "--force",
        action="store_true",
        help="grant even though the address is not verified (whoever registered it gets the role)",
    )
    add_stack_arguments(grant)
    add_json_argument(grant)
    grant.set_defaults(run=run_grant)
    revoke = commands.add_parser(
        "revoke", help="remove a role from the user with this email and end their sessions"
    )
    revoke.add_argument("email")
    revoke.add_argument("role", choices=ROLES)
    add_stack_arguments(revoke)
    add_json_argument(revoke)
    revoke.set_defaults(run=run_revoke)
    unlock = commands.add_parser(
        "unlock", help="clear the login throttle of the user with this email"
    )
    unlock.add_argument("email")
    add_stack_arguments(unlock)
    unlock.set_defaults(run=run_unlock)
    register_reset_mfa(commands)


def add_json_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--json", action="store_true", help="the outcome as one JSON object on stdout"
    )


def _no_cursor_key() -> bytes:
    raise RuntimeError("operator actions never list users")


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


def operator_actor(_: str) -> Actor:
    """Every change an operator command makes is the operator's: named by their login."""
    from domain.actors import Actor, ActorType

    try:
        who = getpass.getuser()
    except (OSError, KeyError):  # no login name in this environment (a bare container)
        who = "unknown"
    return Actor(type=ActorType.OPERATOR, id=who or "unknown")


def _actions(args: argparse.Namespace, stamp: WriteStamp) -> Any:
    from adapters.dynamodb_login_state import DynamoDBLoginState
    from adapters.dynamodb_user_repository import DynamoDBUserRepository
    from domain.admin_service import AdminService

    stack = resolve_stack(args)
    table, db = stack.physical_id("UserRegistrationTable"), stack.client("dynamodb")
    repository = DynamoDBUserRepository(
        table, cursor_key=_no_cursor_key, db=db, request_id=stamp, actor=operator_actor
    )
    login_state = DynamoDBLoginState(table, db, actor=operator_actor, request_id=stamp)
    return AdminService(repository, login_state)


def _act(name: str, action: Any) -> Any:
    """The action's result; a refusal (an unverified address, the last admin) is one line and
    exit 2, an unknown email exit 1: nothing was done either way."""
    from domain.errors import InvalidInput, LastAdmin, UserNotFound

    try:
        return action()
    except (InvalidInput, LastAdmin) as error:
        raise CommandError(f"{name}: {error}", EXIT_USAGE) from None
    except UserNotFound as error:
        raise CommandError(f"{name}: {error}", EXIT_FAILED) from None


def run_grant(args: argparse.Namespace) -> int:
    from domain.users import Role

    stamp = WriteStamp()
    actions = _actions(args, stamp)
    force = getattr(args, "force", False)
    user = _act("grant", lambda: actions.grant_role(args.email, Role.ADMIN, force=force))
    if force and not user.email_verified:
        print(
            f"warning: {user.email} is not verified: whoever registered it now has the admin role",
            file=sys.stderr,
        )
    report_change(user, stamp.change_id, as_json=args.json)
    return 0


def run_revoke(args: argparse.Namespace) -> int:
    from domain.users import Role

    stamp = WriteStamp()
    actions = _actions(args, stamp)
    user = _act("revoke", lambda: actions.revoke_role(args.email, Role(args.role)))
    report_change(user, stamp.change_id, as_json=args.json)
    if stamp.change_id is not None and not args.json:
        print("their sessions have ended")
    return 0


def run_unlock(args: argparse.Namespace) -> int:
    actions = _actions(args, WriteStamp())
    user = _act("unlock", lambda: actions.unlock(args.email))
    print(f"{user.email} ({user.id}): login throttle cleared")
    return 0


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
        actor=operator_actor,
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
