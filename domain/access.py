"""Who is calling, and what they may touch."""

from __future__ import annotations

from dataclasses import dataclass

from domain.errors import AccessDenied
from domain.users import Role

SELF_ALIAS = "me"


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
