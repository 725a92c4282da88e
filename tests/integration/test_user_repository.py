"""DynamoDBUserRepository details that the API cannot show directly."""

from __future__ import annotations

from datetime import UTC, datetime

from adapters.dynamodb_login_state import DynamoDBLoginState
from handlers.dependencies import user_repository
from tests.integration.conftest import UserFactory
from userflow.stack import Stack


def test_given_sessions_revoked_meanwhile_when_a_stale_read_is_saved_then_revocation_survives(
    stack: Stack, make_user: UserFactory
) -> None:
    repository = user_repository()
    user = make_user()
    stale = repository.get(user.id)
    revoked_at = datetime(2030, 1, 1, tzinfo=UTC)
    DynamoDBLoginState(stack.physical_id("UserRegistrationTable")).revoke_all_sessions(
        user.id, revoked_at
    )

    repository.save(
        stale.model_copy(
            update={"user": stale.user.model_copy(update={"name": "Renamed", "version": 2})}
        ),
        stale,
    )

    stored = repository.get(user.id)
    assert stored.user.name == "Renamed"
    assert stored.sessions_revoked_at == revoked_at
