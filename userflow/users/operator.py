"""What an operator's command (`userflow admin ...`) writes with: the stack's user repository and
login state, each change made as the operator and stamped with the command's request id."""

from __future__ import annotations

import getpass
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING

from userflow.stack import Stack
from userflow.users.stack_access import no_cursor_key

if TYPE_CHECKING:
    from adapters.dynamodb_user_repository import DynamoDBUserRepository
    from domain.actors import Actor
    from domain.admin_service import AdminService
    from domain.mfa import MfaService


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


def _repository(stack: Stack, request_id: Callable[[], str | None]) -> DynamoDBUserRepository:
    from adapters.dynamodb_user_repository import DynamoDBUserRepository

    return DynamoDBUserRepository(
        stack.physical_id("UserRegistrationTable"),
        cursor_key=no_cursor_key,
        db=stack.client("dynamodb"),
        request_id=request_id,
        actor=operator_actor,
    )


def operator_actions(stack: Stack, stamp: WriteStamp) -> AdminService:
    from adapters.dynamodb_login_state import DynamoDBLoginState
    from domain.admin_service import AdminService

    table, db = stack.physical_id("UserRegistrationTable"), stack.client("dynamodb")
    login_state = DynamoDBLoginState(table, db, actor=operator_actor, request_id=stamp)
    return AdminService(_repository(stack, stamp), login_state)


def operator_mfa_service(stack: Stack, request_id: Callable[[], str | None]) -> MfaService:
    """For ``reset_by_operator`` only: an operator's reset needs no step-up and reads no key."""
    from domain.mfa import MfaService
    from domain.mfa_crypto import MfaKeys

    def no_step_up(*_: object) -> None:
        raise RuntimeError("an operator's reset needs no step-up")

    def no_key() -> bytes:
        raise RuntimeError("a reset reads no secret")

    return MfaService(
        users=_repository(stack, request_id), keys=MfaKeys(no_key), issuer="-", step_up=no_step_up
    )
