"""Lazy migration from another user pool (docs/users/migration.md): a user the pool knows and
this service does not is moved over the first time they need it, with no reset.

- Login: the pool checks the password; if it accepts it, the user is created here with that
  password hashed our way, the pool's attributes and verification state, then logged in as any
  user is (one request). If it refuses, the answer is today's unknown user's.
- Forgot-password: the user is created here with the attributes and a password still held by the
  pool (``IN_POOL_PREFIX``: nothing matches it here), and the reset link is mailed as for any
  user. Until they reset, a login still asks the pool, now under this service's throttle.

The pool is a port (``domain.ports.UserPool``; adapters/cognito_user_pool.py for Cognito).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

from pydantic import TypeAdapter, ValidationError

from domain.clock import Clock, utc_now
from domain.errors import EmailAlreadyExists, UserflowError
from domain.metadata import ADMIN_WRITABLE, MetadataPolicy
from domain.password_policy import normalize_password
from domain.passwords import PasswordHasher
from domain.pool_user import PoolUser
from domain.ports import LoginStateRepository, UserPool, UserRepository
from domain.users import (
    UNUSABLE_PREFIX,
    Email,
    Locale,
    Name,
    Origin,
    Phone,
    TimeZone,
    User,
    UserAccount,
)

IN_POOL_PREFIX = UNUSABLE_PREFIX + "pool:"
"""The stored hash of a user moved over by forgot-password: the password is still the pool's.
It is an unusable hash (an unmatchable argon2id one after the marker), so every rule for users
without a password applies, and a check against it costs a full verification."""


def password_in_pool(account: UserAccount) -> bool:
    return account.password_hash.startswith(IN_POOL_PREFIX)


_FIELDS: dict[str, TypeAdapter[str]] = {
    "email": TypeAdapter(Email),
    "name": TypeAdapter(Name),
    "phone": TypeAdapter(Phone),
    "locale": TypeAdapter(Locale),
    "timezone": TypeAdapter(TimeZone),
}


def _fitting(kind: str, value: str | None) -> str | None:
    """``value`` if this service would accept it as a ``kind``, else None (never a failure: an
    attribute the pool allowed is no reason to refuse the user)."""
    if value is None:
        return None
    try:
        return _FIELDS[kind].validate_python(value)
    except ValidationError:
        return None


class UserMigration:
    def __init__(
        self,
        *,
        pool: UserPool,
        users: UserRepository,
        login_state: LoginStateRepository,
        hasher: PasswordHasher,
        metadata: MetadataPolicy | None = None,
        clock: Clock = utc_now,
        new_id: Callable[[], str] = lambda: str(uuid.uuid4()),
    ) -> None:
        self._pool = pool
        self._users = users
        self._login_state = login_state
        self._hasher = hasher
        self._metadata = metadata or MetadataPolicy()
        self._clock = clock
        self._new_id = new_id

    def migrate_with_password(self, email: str, password: str) -> UserAccount | None:
        """The user created here if the pool accepts this password, else None."""
        found = self._pool.authenticate(email.strip(), password)
        if found is None:
            return None
        new_hash = self._hasher.hash(normalize_password(password))
        return self._created(found, new_hash)

    def migrate_for_reset(self, email: str) -> UserAccount | None:
        """The user created here, password still in the pool, if the pool has them enabled."""
        found = self._pool.find(email.strip())
        if found is None:
            return None
        return self._created(found, IN_POOL_PREFIX + self._hasher.unmatchable_hash())

    def with_pool_password(self, account: UserAccount, password: str) -> UserAccount:
        """For a user moved over by forgot-password: if the pool accepts ``password``, it
        becomes their password here (stored only if the hash is still the marker), so the
        normal check that follows accepts it. Anyone else is returned as they are."""
        if not password_in_pool(account):
            return account
        if self._pool.authenticate(account.user.email, password) is None:
            return account
        new_hash = self._hasher.hash(normalize_password(password))
        if not self._login_state.store_rehash(account, new_hash):
            return account  # reset or changed meanwhile: what is stored now decides
        return account.model_copy(update={"password_hash": new_hash})

    # ------------------------------------------------------------ helpers
    def _created(self, found: PoolUser, password_hash: str) -> UserAccount | None:
        account = self._account(found, password_hash)
        if account is None:
            return None
        try:
            self._users.add(account)
        except EmailAlreadyExists:
            # Moved over by a concurrent request (or registered meanwhile): that one stands.
            return self._users.find_by_email(account.user.email)
        return account

    def _account(self, found: PoolUser, password_hash: str) -> UserAccount | None:
        email = _fitting("email", found.email)
        if email is None:
            return None  # an address this service cannot hold: not movable
        name = _fitting("name", found.name) or _fitting("name", email.split("@")[0]) or email
        now = self._clock()
        user = User(
            id=self._new_id(),
            email=email,
            email_verified=found.email_verified,
            name=name,
            phone=_fitting("phone", found.phone),
            locale=_fitting("locale", found.locale),
            timezone=_fitting("timezone", found.timezone),
            app_metadata=self._app_metadata(found),
            created_at=found.created_at or now,
            updated_at=now,
        )
        return UserAccount(user=user, password_hash=password_hash, origin=Origin.MIGRATION)

    def _app_metadata(self, found: PoolUser) -> dict[str, object]:
        """The pool's custom attributes and its id for the user, as admins' attributes (the
        pool's app client decided who wrote them); left out whole if the deployer's limits or
        schema refuse them."""
        candidate = {**found.attributes, "migrated_from": found.pool_user_id}
        try:
            return self._metadata.validated(ADMIN_WRITABLE, candidate)
        except UserflowError:
            return {}
