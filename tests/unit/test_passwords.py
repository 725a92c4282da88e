import pytest

from domain.passwords import (
    COST_ENV,
    PRODUCTION_LOG2_N,
    TEST_COST_ENV,
    PasswordHasher,
    ScryptCost,
)


@pytest.fixture
def hasher() -> PasswordHasher:
    return PasswordHasher(ScryptCost(log2_n=10))


def test_given_a_password_when_hashed_then_only_that_password_verifies(
    hasher: PasswordHasher,
) -> None:
    encoded = hasher.hash("correct horse battery staple")

    assert "correct horse" not in encoded
    assert hasher.verify("correct horse battery staple", encoded)
    assert not hasher.verify("correct horse battery stapl", encoded)


def test_given_one_password_when_hashed_twice_then_salts_differ(hasher: PasswordHasher) -> None:
    assert hasher.hash("correct horse battery") != hasher.hash("correct horse battery")


def test_given_a_hash_when_encoded_then_it_carries_its_cost(hasher: PasswordHasher) -> None:
    scheme, log2_n, r, p, _salt, _digest = hasher.hash("correct horse battery").split("$")

    assert (scheme, log2_n, r, p) == ("scrypt", "10", "8", "1")


def test_given_a_hash_at_an_older_cost_when_checked_then_it_needs_rehash(
    hasher: PasswordHasher,
) -> None:
    old = PasswordHasher(ScryptCost(log2_n=9)).hash("correct horse battery")

    assert hasher.needs_rehash(old)
    assert not hasher.needs_rehash(hasher.hash("correct horse battery"))
    assert hasher.verify("correct horse battery", old)


@pytest.mark.parametrize("garbage", ["", "plain", "scrypt$x$8$1$aa$bb", "bcrypt$10$8$1$aa$bb"])
def test_given_a_malformed_hash_when_verified_then_it_fails_closed(
    hasher: PasswordHasher, garbage: str
) -> None:
    assert not hasher.verify("anything at all", garbage)


def test_given_no_configuration_when_cost_is_read_then_it_is_owasp(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(COST_ENV)

    assert ScryptCost.from_environment() == ScryptCost(log2_n=PRODUCTION_LOG2_N, r=8, p=1)


def test_given_a_low_cost_without_test_opt_in_when_read_then_it_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(COST_ENV, "10")
    monkeypatch.delenv(TEST_COST_ENV)

    with pytest.raises(RuntimeError, match="for tests only"):
        ScryptCost.from_environment()
