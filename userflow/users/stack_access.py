"""What the users commands need of a stack: its table, the functions' settings (index shards,
metadata limits and schemas) and a repository on it."""

from __future__ import annotations

import uuid
from typing import Any

from userflow.stack import Stack

SETTINGS_FUNCTION = "UpdateUserFunction"
"""Holds every setting a user write needs: USER_INDEX_SHARDS and the metadata limits."""


def function_environment(stack: Stack) -> dict[str, str]:
    """The environment of the function that holds every setting a user write needs."""
    from userflow.functions import function_environment_of

    return function_environment_of(stack, SETTINGS_FUNCTION)


def no_cursor_key() -> bytes:
    """The list cursor's key, for a repository that never lists through the API's cursors."""
    raise RuntimeError("operator commands never list through the API's cursors")


def repository(stack: Stack, request_id: str) -> Any:
    """The stack's user repository, writing with ``request_id`` (the events' correlation_id)."""
    from adapters.dynamodb_user_repository import DynamoDBUserRepository
    from handlers.settings import TableSettings, load

    settings = load(
        TableSettings,
        {**function_environment(stack), "TABLE_NAME": stack.physical_id("UserRegistrationTable")},
    )
    return DynamoDBUserRepository(
        settings.table_name,
        cursor_key=no_cursor_key,
        db=stack.client("dynamodb"),
        request_id=lambda: request_id,
        shards=settings.user_index_shards,
    )


def new_request_id(command: str) -> str:
    return f"userflow-users-{command}-{uuid.uuid4()}"
