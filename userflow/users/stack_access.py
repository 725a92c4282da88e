"""What the users commands need of a stack: its table, the functions' settings (index shards,
metadata limits and schemas) and a repository on it."""

from __future__ import annotations

import uuid
from typing import Any

from botocore.exceptions import ClientError

from userflow.stack import Stack

SETTINGS_FUNCTION = "UpdateUserFunction"
"""Holds every setting a user write needs: USER_INDEX_SHARDS and the metadata limits."""


def function_environment(stack: Stack, logical_id: str = SETTINGS_FUNCTION) -> dict[str, str]:
    """A function's deployed environment, or, where functions do not run in Lambda (the local
    stack), the template's resolved for that stack."""
    if not stack.local:
        try:
            configuration = stack.client("lambda").get_function_configuration(
                FunctionName=stack.physical_id(logical_id)
            )
        except ClientError as error:
            if error.response["Error"]["Code"] != "ResourceNotFoundException":
                raise
        else:
            variables: dict[str, str] = configuration.get("Environment", {}).get("Variables", {})
            return variables
    from userflow.commands.local import default_template
    from userflow.local.provision import function_environment as resolved
    from userflow.local.template import load_template

    return resolved(load_template(default_template()), logical_id, stack)


def _no_cursor_key() -> bytes:
    raise RuntimeError("the users commands never list through the API's cursors")


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
        cursor_key=_no_cursor_key,
        db=stack.client("dynamodb"),
        request_id=lambda: request_id,
        shards=settings.user_index_shards,
    )


def new_request_id(command: str) -> str:
    return f"userflow-users-{command}-{uuid.uuid4()}"
