"""Wires adapters into domain services from the function's environment, once per container."""

from __future__ import annotations

import os
from functools import cache

from adapters.dynamodb_user_repository import DynamoDBUserRepository
from domain.passwords import PasswordHasher
from domain.user_service import UserService


def _cursor_key() -> bytes:
    from aws_lambda_powertools.utilities.parameters import get_secret

    return str(get_secret(os.environ["CURSOR_SECRET_ARN"], max_age=300)).encode()


@cache
def user_repository() -> DynamoDBUserRepository:
    return DynamoDBUserRepository(os.environ["TABLE_NAME"], cursor_key=_cursor_key)


@cache
def user_service() -> UserService:
    return UserService(user_repository(), PasswordHasher())
