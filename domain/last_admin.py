"""Someone must always be able to administer users: the last enabled admin is neither disabled
nor demoted (domain/admin_service.py)."""

from __future__ import annotations

from domain.errors import LastAdmin
from domain.ports import UserRepository
from domain.users import Role, User, UserAccount, UserStatus


def is_enabled_admin(user: User) -> bool:
    return Role.ADMIN in user.roles and user.status == UserStatus.ACTIVE


def admin_kept_after(repository: UserRepository, account: UserAccount) -> str | None:
    """Before ``account`` stops being an enabled admin: another one, whom the write then requires
    to still be one (so two admins demoting each other at once cannot both succeed); LastAdmin
    when there is none. None when ``account`` is not an enabled admin (nothing to keep)."""
    if not is_enabled_admin(account.user):
        return None
    other = repository.other_enabled_admin(account.user.id)
    if other is None:
        raise LastAdmin
    return other
