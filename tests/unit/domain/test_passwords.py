import pytest

from domain.passwords import (
    COST_ENV,
    OWASP_MINIMUM,
    PRODUCTION_COST,
    RENAMED_COST_ENV,
    TEST_COST_ENV,
    Argon2Cost,
    PasswordHasher,
)
from tests.support.legacy_hashes import scrypt_hash

PASSPHRASE = "correct horse battery staple"


@pytest.fixture
def hasher() -> PasswordHasher:
    return PasswordHasher(Argon2Cost(memory_kib=1024, time_cost=2))


def test_given_a_password_when_hashed_then_only_that_password_verifies(
    hasher: PasswordHasher,
) -> None:
    encoded = hasher.hash(PASSPHRASE)

    assert "correct horse" not in encoded
    assert hasher.verify(PASSPHRASE, encoded)
    assert not hasher.verify("correct horse battery stapl", encoded)


def test_given_one_password_when_hashed_twice_then_salts_differ(hasher: PasswordHasher) -> None:
    assert hasher.hash(PASSPHRASE) != hasher.hash(PASSPHRASE)


def test_given_a_hash_when_encoded_then_it_is_argon2id_carrying_its_cost(
    hasher: PasswordHasher,
) -> None:
    assert hasher.hash(PASSPHRASE).startswith("$argon2id$v=19$m=1024,t=2,p=1$")


def test_given_the_dummy_hash_when_compared_then_it_has_a_real_hashs_cost_and_shape(
    hasher: PasswordHasher,
) -> None:
    real, dummy = hasher.hash(PASSPHRASE).split("$"), hasher.unmatchable_hash().split("$")

    assert dummy[:4] == real[:4]
    assert [len(part) for part in dummy[4:]] == [len(part) for part in real[4:]]
    assert not hasher.needs_rehash(hasher.unmatchable_hash())
    assert not hasher.verify(PASSPHRASE, hasher.unmatchable_hash())


def test_given_a_legacy_scrypt_hash_when_checked_then_it_verifies_and_needs_rehash(
    hasher: PasswordHasher,
) -> None:
    legacy = scrypt_hash(PASSPHRASE)

    assert hasher.verify(PASSPHRASE, legacy)
    assert not hasher.verify("another passphrase entirely", legacy)
    assert hasher.needs_rehash(legacy)


def test_given_an_argon2id_hash_at_another_cost_when_checked_then_it_needs_rehash(
    hasher: PasswordHasher,
) -> None:
    older = PasswordHasher(Argon2Cost(memory_kib=512, time_cost=1)).hash(PASSPHRASE)

    assert hasher.needs_rehash(older)
    assert hasher.verify(PASSPHRASE, older)
    assert not hasher.needs_rehash(hasher.hash(PASSPHRASE))


@pytest.mark.parametrize(
    "garbage",
    [
        "",
        "plain",
        "scrypt$x$8$1$aa$bb",
        "scrypt$10$8$1$not base64!$bb",
        "scrypt$99999$8$1$aa$bb",
        "bcrypt$10$8$1$aa$bb",
        "$argon2id$v=19$m=1024,t=2,p=1$garbage",
        "$argon2i$v=19$m=1024,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA",
    ],
)
def test_given_a_malformed_hash_when_verified_then_it_fails_closed(
    hasher: PasswordHasher, garbage: str
) -> None:
    assert not hasher.verify("anything at all", garbage)
    assert hasher.needs_rehash(garbage)


@pytest.mark.parametrize("password", ["\ud800 lone surrogate", "nul \x00 inside", "ünïcødé ✓ 🔑"])
def test_given_an_unusual_password_when_hashed_then_it_verifies(
    hasher: PasswordHasher, password: str
) -> None:
    assert hasher.verify(password, hasher.hash(password))


def test_given_no_configuration_when_cost_is_read_then_it_is_at_least_owasps(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(COST_ENV)

    cost = Argon2Cost.from_environment()

    assert cost == PRODUCTION_COST
    assert cost.memory_kib >= OWASP_MINIMUM.memory_kib
    assert cost.time_cost >= OWASP_MINIMUM.time_cost
    assert cost.parallelism == 1


def test_given_a_low_cost_without_test_opt_in_when_read_then_it_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(COST_ENV, "10")
    monkeypatch.delenv(TEST_COST_ENV)

    with pytest.raises(RuntimeError, match="for tests only"):
        Argon2Cost.from_environment()


def test_given_a_low_cost_with_test_opt_in_when_read_then_memory_is_two_to_the_k_kib() -> None:
    assert Argon2Cost.from_environment().memory_kib == 1024  # conftest: k=10


def test_given_the_cost_variable_by_its_scrypt_era_name_when_read_then_refused_with_the_new_name(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Ignoring it would run the setup that still sets it at the production cost, unannounced."""
    monkeypatch.delenv(COST_ENV)
    monkeypatch.setenv(RENAMED_COST_ENV, "10")

    with pytest.raises(RuntimeError, match=f"{RENAMED_COST_ENV} is now {COST_ENV}"):
        Argon2Cost.from_environment()
