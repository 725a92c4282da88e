"""Who is calling, and what they may touch."""

from __future__ import annotations

from dataclasses import dataclass
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
    signed out everywhere (logout-all, password change, reset) since the token was issued."""
    try:
        account = repository.get(caller.user_id)
    except UserNotFound as error:
        raise AuthenticationFailed(SESSION_ENDED) from error
    if not account.accepts_session(caller.session_generation):
        raise AuthenticationFailed(SESSION_ENDED)
    return account
