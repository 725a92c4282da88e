"""Hashes imported from other systems: each accepted format verifies its password and no other,
is re-hashed to argon2id at the next login, and what cannot be verified is refused at import."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from domain.password_formats import UnsupportedHash, check_importable, verify_foreign
from domain.passwords import PasswordHasher
from tests.support.legacy_hashes import BCRYPT_VECTOR, FOREIGN_HASHERS, SCRYPT_VECTOR

PASSWORD = "correct horse battery staple"


@pytest.mark.parametrize("make", FOREIGN_HASHERS.values(), ids=FOREIGN_HASHERS.keys())
def test_given_a_foreign_hash_when_verified_then_only_its_password_matches(
    make: Callable[[str], str],
) -> None:
    encoded = make(PASSWORD)
    hasher = PasswordHasher()

    assert check_importable(encoded)
    assert hasher.verify(PASSWORD, encoded)
    assert not hasher.verify(PASSWORD + "!", encoded)
    assert hasher.needs_rehash(encoded)


@pytest.mark.parametrize(("password", "encoded"), [BCRYPT_VECTOR, SCRYPT_VECTOR])
def test_given_a_published_vector_when_verified_then_it_matches(
    password: str, encoded: str
) -> None:
    assert verify_foreign(password.encode(), encoded)
    assert not verify_foreign(b"wrong", encoded)


def test_given_a_bcrypt_hash_of_a_long_password_then_only_the_first_72_bytes_count() -> None:
    """What the system that made it did: the rest never reached the hash."""
    long = "x" * 72 + "tail"
    encoded = FOREIGN_HASHERS["bcrypt $2b$"](long)

    assert PasswordHasher().verify(long, encoded)
    assert PasswordHasher().verify("x" * 72 + "other", encoded)


def test_given_non_ascii_and_lone_surrogates_then_verification_never_raises() -> None:
    encoded = FOREIGN_HASHERS["django pbkdf2_sha256"]("pässwörd ünïcode")

    assert PasswordHasher().verify("pässwörd ünïcode", encoded)
    assert not PasswordHasher().verify("\ud800 lone", encoded)


@pytest.mark.parametrize(
    ("encoded", "reason"),
    [
        ("md5$abc$def", "unknown hash format"),
        ("plaintext-password", "unknown hash format"),
        ("", "unknown hash format"),
        ("$1$saltsalt$hash", "unknown hash format"),
        ("$2b$31$" + "a" * 53, "beyond what a login may spend"),
        ("$2b$03$" + "a" * 53, "out of range"),
        ("$2b$10$tooshort", "not a well-formed bcrypt"),
        ("$scrypt$ln=24,r=8,p=1$c2FsdA$ZGlnZXN0", "beyond what a login may spend"),
        ("$scrypt$ln=10,r=8$c2FsdA$ZGlnZXN0", "must be ln, r and p"),
        ("$scrypt$ln=10,r=8,p=1$not base64$ZGlnZXN0", "not a well-formed scrypt"),
        ("pbkdf2_sha256$99999999$salt$ZGlnZXN0", "beyond what a login may spend"),
        ("pbkdf2_sha256$0$salt$ZGlnZXN0", "out of range"),
        ("pbkdf2_md5$1000$salt$ZGlnZXN0", "not a well-formed Django"),
        ("$pbkdf2-sha256$i=1000,x=2$c2FsdA$ZGlnZXN0", "must be i and l"),
        ("$pbkdf2-sha256$abc$c2FsdA$ZGlnZXN0", "not a number"),
        (
            "$argon2id$v=19$m=4194304,t=3,p=1$c2FsdHNhbHQ$ZGlnZXN0ZGlnZXN0",
            "beyond what a login may spend",
        ),
        ("$argon2id$v=19$m=65536,t=3$c2FsdA$ZGlnZXN0", "not a well-formed argon2"),
    ],
)
def test_given_a_hash_that_cannot_be_verified_then_import_refuses_it_saying_why(
    encoded: str, reason: str
) -> None:
    with pytest.raises(UnsupportedHash, match=reason):
        check_importable(encoded)
    assert not PasswordHasher().verify("anything", encoded)
