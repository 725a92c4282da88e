"""Who is calling, and what they may touch."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from domain.errors import AccessDenied, AuthenticationFailed, UserNotFound
from domain.users import Role

if TYPE_CHECKING:
    from domain.ports import UserRepository
    from domain.users import UserAccount

SELF_ALIAS = "me"
SESSION_ENDED = "Session is no longer valid; log in again"


@dataclass(frozen=True)
class Caller:
    """The authenticated principal, as the authorizer vouched for it."""

    user_id: str
    roles: frozenset[str]
    session_generation: int
    """The user's session generation when the token was issued (``gen``): any revocation since
    ends its authority."""
    family_id: str | None = None
    """The session (refresh family) the token belongs to (``sid``): revoking the family (logout,
    refresh-token reuse) ends the authority of its access tokens too."""
    auth_time: int = 0
    """Epoch seconds of the login that started the session (``auth_time``); the default, the
    epoch, is never recent."""
    amr: tuple[str, ...] = ()
    """How that login authenticated the user (RFC 8176 ``amr``: ``pwd``, ``otp``, ``hwk``...)."""

    @property
    def authenticated_at(self) -> datetime:
        return datetime.fromtimestamp(self.auth_time, UTC)

    @property
    def is_admin(self) -> bool:
        return Role.ADMIN.value in self.roles

    def resolve(self, user_id: str) -> str:
        """Turn the ``me`` alias into the caller's id."""
        return self.user_id if user_id == SELF_ALIAS else user_id

    def ensure_can_access(self, user_id: str) -> None:
        if not (self.is_admin or user_id == self.user_id):
            raise AccessDenied("You may only access your own user record")

    def ensure_admin(self) -> None:
        if not self.is_admin:
            raise AccessDenied("This operation needs the admin role")


def caller_account(repository: UserRepository, caller: Caller) -> UserAccount:
    """Access tokens are stateless; this refuses one whose holder was deleted, disabled or
    signed out everywhere (logout-all, password change, reset) since the token was issued, or
    whose session was revoked (logout, refresh-token reuse). Every protected route reads the
    caller's item anyway, so these checks cost no extra read (docs/api/auth.md, "Sessions")."""
    try:
        account = repository.get(caller.user_id)
    except UserNotFound as error:
        raise AuthenticationFailed(SESSION_ENDED) from error
    if not account.accepts_session(caller.session_generation, caller.family_id):
        raise AuthenticationFailed(SESSION_ENDED)
    return account


def target_account(repository: UserRepository, caller: Caller, user_id: str) -> UserAccount:
    """The account a request is about (``me`` or an id), once the caller may touch it and their
    own session is still good."""
    user_id = caller.resolve(user_id)
    caller.ensure_can_access(user_id)
    own = caller_account(repository, caller)
    return own if user_id == own.user.id else repository.get(user_id)
