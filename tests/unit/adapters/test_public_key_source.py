"""The authorizer's key source after a rotation: the extension may serve the old JWKS for its
cache TTL, so the set read from SSM for an unknown kid must keep verifying meanwhile."""

from __future__ import annotations

import json

import pytest

from adapters.key_store import CACHE_SECONDS, FORCED_REFRESH_INTERVAL_SECONDS, PublicKeySource
from domain.signing_keys import SigningKeySet, new_key_set
from domain.token_verifier import UnknownSigningKey
from tests.unit.domain.test_tokens import AUDIENCE, ISSUER, signed


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class RotatedSource(PublicKeySource):
    """The extension still serves ``old``; SSM itself already holds ``new``."""

    def __init__(self, old: SigningKeySet, new: SigningKeySet, clock: Clock) -> None:
        super().__init__("jwks", ISSUER, AUDIENCE, monotonic=clock)
        self.old, self.new, self.forced_reads = old, new, 0

    def jwks_text(self, force: bool = False) -> str:
        self.forced_reads += force
        return json.dumps((self.new if force else self.old).public_jwks())


def test_given_a_rotation_the_extension_lags_when_a_new_token_comes_twice_then_both_pass() -> None:
    clock = Clock()
    new = new_key_set()
    source = RotatedSource(new_key_set(), new, clock)

    first = source.verify(signed(new))
    clock.now += 1
    second = source.verify(signed(new))

    assert first.sub == second.sub
    assert source.forced_reads == 1  # one SSM read, however many requests follow


def test_given_the_extension_ttl_passed_when_it_still_lacks_the_kid_then_ssm_is_asked_again() -> (
    None
):
    clock = Clock()
    new = new_key_set()
    source = RotatedSource(new_key_set(), new, clock)
    source.verify(signed(new))

    clock.now += CACHE_SECONDS + 1
    source.verify(signed(new))

    assert source.forced_reads == 2


def test_given_random_kids_when_verified_then_ssm_is_asked_at_most_once_per_interval() -> None:
    clock = Clock()
    source = RotatedSource(new_key_set(), new_key_set(), clock)

    for _ in range(5):
        with pytest.raises(UnknownSigningKey):
            source.verify(signed(new_key_set()))
    clock.now += FORCED_REFRESH_INTERVAL_SECONDS + 1
    with pytest.raises(UnknownSigningKey):
        source.verify(signed(new_key_set()))

    assert source.forced_reads == 2
