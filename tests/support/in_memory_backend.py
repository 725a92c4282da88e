"""The domain services wired to the in-memory ports of ``fakes.py``, with a settable clock,
cheap real password hashing and a real signing key: the use cases run end to end in memory."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from domain.access import Caller
from domain.admin_service import AdminService
from domain.auth_service import AuthService
from domain.password_guard import PasswordGuard
from domain.passwords import Argon2Cost, PasswordHasher
from domain.sessions import AuthPolicy
from domain.signing_keys import StoredKey, generate_signing_key
from domain.token_verifier import TokenVerifier
from domain.tokens import TokenIssuer, TokenSettings
from domain.user_migration import UserMigration
from domain.user_service import UserService
from domain.users import Registration, Role, User
from tests.support.fakes import (
    InMemoryDeviceRepository,
    InMemoryLoginState,
    InMemorySessionRepository,
    InMemoryUserRepository,
)

TOKEN_SETTINGS = TokenSettings(issuer="urn:userflow:test", audience="urn:userflow:test:api")
PASSWORD = "correct horse battery staple"


class Clock:
    """A settable ``now`` for the services' ``clock`` argument."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


TOY_ARGON2ID_HASHER = PasswordHasher(Argon2Cost(memory_kib=64, time_cost=1))
"""Real argon2id at a toy cost (64 KiB, one pass): hashes verify like production ones, fast."""


@dataclass
class InMemoryBackend:
    """The domain services wired to in-memory ports that share one table, with a settable clock
    and a real signing key."""

    clock: Clock
    hasher: PasswordHasher = TOY_ARGON2ID_HASHER
    policy: AuthPolicy = field(default_factory=AuthPolicy)
    users: InMemoryUserRepository = field(default_factory=InMemoryUserRepository)
    sessions: InMemorySessionRepository = field(default_factory=InMemorySessionRepository)
    devices: InMemoryDeviceRepository = field(default_factory=InMemoryDeviceRepository)
    metrics: list[str] = field(default_factory=list)
    outcomes: list[tuple[str, str | None, str | None]] = field(default_factory=list)
    """Every outcome recorded: (name, user_id, family_id)."""
    login_state: InMemoryLoginState = field(init=False)
    key: StoredKey = field(init=False)

    def __post_init__(self) -> None:
        self.login_state = InMemoryLoginState(self.users)
        self.key = generate_signing_key(self.clock.now)

    def user_service(self) -> UserService:
        guard = PasswordGuard(self.login_state, self.hasher, self.policy.throttle, self.clock)
        return UserService(self.users, self.hasher, password_guard=guard, clock=self.clock)

    def admin_service(self) -> AdminService:
        return AdminService(self.users, self.login_state, clock=self.clock)

    def auth_service(self, migration: UserMigration | None = None) -> AuthService:
        """``migration``: a user pool unknown addresses are moved over from."""
        issuer = TokenIssuer(self.key, TOKEN_SETTINGS, clock=self.clock)
        return AuthService(
            users=self.users,
            login_state=self.login_state,
            sessions=self.sessions,
            devices=self.devices,
            hasher=self.hasher,
            issuer=lambda: issuer,
            policy=self.policy,
            clock=self.clock,
            record_metric=self.record,
            migration=migration,
        )

    def record(
        self, name: str, *, user_id: str | None = None, family_id: str | None = None
    ) -> None:
        self.metrics.append(name)
        self.outcomes.append((name, user_id, family_id))

    def verifier(self) -> TokenVerifier:
        """Verifies access tokens the way the authorizer does; PyJWT checks ``exp`` against the
        real time, so only tokens issued while the clock is near it verify."""
        jwks = {"keys": [self.key.public_jwk()]}
        return TokenVerifier(jwks, TOKEN_SETTINGS.issuer, TOKEN_SETTINGS.audience)

    def register(
        self, email: str = "ann@example.com", password: str = PASSWORD, name: str = "Ann"
    ) -> User:
        registration = Registration.model_validate(
            {"email": email, "password": password, "name": name}
        )
        return self.user_service().register(registration)

    def caller(
        self,
        user: User,
        *,
        admin: bool = False,
        logged_in: timedelta = timedelta(hours=1),
        amr: tuple[str, ...] = ("pwd",),
        family_id: str = "family-1",
    ) -> Caller:
        """The principal of an access token issued to ``user`` now, in a session whose login
        was ``logged_in`` ago (by default too long ago to count as recent authentication)."""
        roles = {Role.USER.value, Role.ADMIN.value} if admin else {Role.USER.value}
        stored = self.users.items.get(user.id)
        generation = stored.account.session_generation if stored else 0
        return Caller(
            user_id=user.id,
            roles=frozenset(roles),
            session_generation=generation,
            family_id=family_id,
            auth_time=int((self.clock.now - logged_in).timestamp()),
            amr=amr,
        )
