"""A key is staged (published, not signing) before it signs; retired keys stay published while
their tokens live; a scheduled rotation activates the staged key, then stages the next."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from adapters.key_store import (
    AUTHORIZER_CACHE_SECONDS,
    DEFAULT_RETAIN_RETIRED,
    PUBLISH_MARGIN_SECONDS,
    first_key_set,
    publish_ahead,
    scheduled_key_set,
)
from domain.signing_keys import KeyNotReady, NothingStaged, SigningKeySet, new_key_set

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
AHEAD = timedelta(minutes=5)


def _kids(key_set: SigningKeySet) -> list[str]:
    return [jwk["kid"] for jwk in key_set.public_jwks()["keys"]]


def test_given_a_key_staged_when_published_then_in_the_jwks_but_not_signing() -> None:
    signing = new_key_set(NOW)

    staged = signing.with_staged(NOW, NOW + AHEAD)

    assert staged.current == signing.current
    assert staged.staged is not None
    assert staged.staged.signs_from == NOW + AHEAD
    assert _kids(staged) == [signing.current.kid, staged.staged.kid]
    assert "exp" not in staged.public_jwks()["keys"][1]


def test_given_a_staged_key_before_it_may_sign_when_activated_then_refused() -> None:
    staged = new_key_set(NOW).with_staged(NOW, NOW + AHEAD)

    with pytest.raises(KeyNotReady, match="may sign from 2026-03-01 12:05:00 UTC"):
        staged.activated(NOW + AHEAD - timedelta(seconds=1), DEFAULT_RETAIN_RETIRED)


def test_given_no_staged_key_when_activated_then_refused() -> None:
    with pytest.raises(NothingStaged):
        new_key_set(NOW).activated(NOW, DEFAULT_RETAIN_RETIRED)


def test_given_a_key_published_long_enough_when_activated_then_it_signs_and_old_retires() -> None:
    old = new_key_set(NOW)
    staged = old.with_staged(NOW, NOW + AHEAD)
    then = NOW + AHEAD

    activated = staged.activated(then, DEFAULT_RETAIN_RETIRED)

    assert staged.staged is not None
    assert activated.current.kid == staged.staged.kid
    assert activated.staged is None
    [retired] = activated.keys[1:]
    assert retired.kid == old.current.kid
    assert retired.expires_at == then + DEFAULT_RETAIN_RETIRED
    assert activated.public_jwks()["keys"][1]["exp"] == int(
        (then + DEFAULT_RETAIN_RETIRED).timestamp()
    )


def test_given_the_default_retention_then_longer_than_the_last_token_of_a_retired_key_lives() -> (
    None
):
    """Signers may sign with the old key for their cache's 30 s; that token lives 15 min."""
    from adapters.key_store import SIGNER_CACHE_SECONDS
    from domain.tokens import MAX_ACCESS_TTL_SECONDS

    last_token_expires = timedelta(seconds=SIGNER_CACHE_SECONDS + MAX_ACCESS_TTL_SECONDS)
    assert last_token_expires < DEFAULT_RETAIN_RETIRED


def test_given_an_emergency_when_every_key_is_replaced_then_old_and_staged_keys_are_gone() -> None:
    before = new_key_set(NOW).with_staged(NOW, NOW + AHEAD)

    replaced = before.rotated(NOW, timedelta(0))

    assert replaced.staged is None
    assert set(_kids(replaced)).isdisjoint(_kids(before))


def test_given_a_stored_set_from_before_staging_existed_when_parsed_then_read_as_unstaged() -> None:
    legacy = new_key_set(NOW).model_dump_json(exclude={"staged"})

    parsed = SigningKeySet.parse(legacy)

    assert parsed is not None
    assert parsed.staged is None


def test_given_the_cache_lifetimes_then_a_key_is_published_at_least_that_long_ahead() -> None:
    assert publish_ahead(300) == timedelta(
        seconds=300 + AUTHORIZER_CACHE_SECONDS + PUBLISH_MARGIN_SECONDS
    )
    assert publish_ahead(300) > timedelta(seconds=300)


def test_given_no_key_when_the_first_rotation_runs_then_a_signing_key_and_its_successor() -> None:
    first = scheduled_key_set(None, NOW, AHEAD)

    assert first.staged is not None
    assert first.staged.signs_from == NOW + AHEAD
    assert len(first.keys) == 1
    assert _kids(first_key_set(NOW, AHEAD))[0] != first.current.kid  # new keys every time


def test_given_a_key_staged_a_month_ago_when_the_schedule_rotates_then_it_signs_then_a_next() -> (
    None
):
    month_ago = NOW - timedelta(days=30)
    before = first_key_set(month_ago, AHEAD)

    rotated = scheduled_key_set(before, NOW, AHEAD)

    assert before.staged is not None
    assert rotated.current.kid == before.staged.kid
    assert rotated.keys[1].kid == before.current.kid
    assert rotated.staged is not None
    assert rotated.staged.kid not in _kids(before)
    assert rotated.staged.signs_from == NOW + AHEAD


def test_given_a_key_staged_moments_ago_when_the_schedule_rotates_then_nothing_signs_early() -> (
    None
):
    before = new_key_set(NOW).with_staged(NOW, NOW + AHEAD)

    rotated = scheduled_key_set(before, NOW + timedelta(seconds=10), AHEAD)

    assert rotated == before


def test_given_nothing_staged_when_the_schedule_rotates_then_it_stages_for_the_next_one() -> None:
    before = new_key_set(NOW)

    rotated = scheduled_key_set(before, NOW, AHEAD)

    assert rotated.current == before.current
    assert rotated.staged is not None
