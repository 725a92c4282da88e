"""DynamoDBUserRepository details that the API cannot show directly."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from adapters.dynamodb_login_state import DynamoDBLoginState
from domain.errors import VersionConflict
from domain.user_search import UserQuery
from handlers.stores import user_repository
from tests.support.api_clients import UserFactory
from userflow.stack import Stack


def test_given_sessions_revoked_meanwhile_when_a_stale_read_is_saved_then_revocation_survives(
    stack: Stack, make_user: UserFactory
) -> None:
    """A revocation is a change at its own version (SessionsRevoked): the stale save loses the
    race rather than undoing it, and redone on a fresh read keeps it."""
    repository = user_repository()
    user = make_user()
    stale = repository.get(user.id)
    revoked_at = datetime(2030, 1, 1, tzinfo=UTC)
    DynamoDBLoginState(stack.physical_id("UserRegistrationTable")).revoke_all_sessions(
        user.id, revoked_at
    )

    def renamed(account: Any) -> Any:
        version = account.user.version + 1
        return account.model_copy(
            update={"user": account.user.model_copy(update={"name": "Renamed", "version": version})}
        )

    with pytest.raises(VersionConflict):
        repository.save(renamed(stale), stale)
    fresh = repository.get(user.id)
    repository.save(renamed(fresh), fresh)

    stored = repository.get(user.id)
    assert stored.user.name == "Renamed"
    assert stored.sessions_revoked_at == revoked_at


def test_given_a_lock_after_the_last_profile_change_when_searching_updated_since_then_listed(
    stack: Stack, make_user: UserFactory
) -> None:
    """A lock (and every security-only change) moves updated_at: the reconciliation query
    (docs/users/search.md) must find the user by it, as it finds a profile change."""
    repository = user_repository()
    user = make_user()
    locked_at = datetime(2030, 1, 1, tzinfo=UTC)
    DynamoDBLoginState(stack.physical_id("UserRegistrationTable")).throttle(
        user.id, locked_at + timedelta(minutes=15), now=locked_at
    )

    page = repository.list_users(10, None, UserQuery(updated_since=locked_at))

    assert [found.id for found in page.items] == [user.id]
    assert page.items[0].updated_at == locked_at
