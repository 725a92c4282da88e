"""What only admins do. Through the API, an admin caller lists users and disables or enables
them; from the CLI (`userflow admin grant|revoke|unlock`), with no caller to check, an operator
grants and revokes roles and unlocks accounts: the operator's AWS credentials are the authority.

- A role goes only to an address its owner proved (``email_verified``): otherwise whoever
  registered a new hire's address before they did would receive their role. ``force`` overrides
  (the CLI warns).
- Disabling a user or revoking a role ends every session of the user (refresh families, access
  tokens, trusted devices), so the change takes effect at once rather than at the next refresh.
- The last enabled admin is never disabled nor demoted (LastAdmin, 409), not even by themself,
  so that someone can always administer users.
"""

from __future__ import annotations

from domain.access import Caller, caller_account, target_account
from domain.clock import Clock, utc_now
from domain.email_lookup import account_by_email
from domain.errors import InvalidInput, UnverifiedEmail, UserNotFound
from domain.last_admin import admin_kept_after
from domain.ports import LoginStateRepository, UserRepository
from domain.user_search import UserQuery
from domain.users import Role, User, UserAccount, UserPage, UserStatus
from domain.write_races import redone_on_lost_race

MAX_PAGE_SIZE = 100


class AdminService:
    def __init__(
        self,
        repository: UserRepository,
        login_state: LoginStateRepository | None = None,
        clock: Clock = utc_now,
    ) -> None:
        """``login_state``: only unlocking needs it."""
        self._repository = repository
        self._login_state = login_state
        self._clock = clock

    # ------------------------------------------------------------ an admin caller (API)
    def list_users(
        self, caller: Caller, limit: int, cursor: str | None, query: UserQuery | None = None
    ) -> UserPage:
        caller.ensure_admin()
        caller_account(self._repository, caller)
        if not 1 <= limit <= MAX_PAGE_SIZE:
            raise InvalidInput(f"limit must be between 1 and {MAX_PAGE_SIZE}")
        return self._repository.list_users(limit, cursor, query)

    def set_status(self, caller: Caller, user_id: str, status: UserStatus) -> User:
        """Disabling also revokes every session of the user in the same write."""
        caller.ensure_admin()
        return redone_on_lost_race(lambda: self._set_status_once(caller, user_id, status))

    def _set_status_once(self, caller: Caller, user_id: str, status: UserStatus) -> User:
        account = target_account(self._repository, caller, user_id)
        if account.user.status == status:
            return account.user
        now = self._clock()
        updated = account.changed(now, status=status)
        kept = None
        if status == UserStatus.DISABLED:
            kept = admin_kept_after(self._repository, account)
            updated = updated.with_sessions_revoked(now)
        self._repository.save(updated, account, admin_kept=kept)
        return updated.user

    # ------------------------------------------------------------ an operator (CLI)
    def grant_role(self, email: str, role: Role, *, force: bool = False) -> User:
        return redone_on_lost_race(lambda: self._grant_once(email, role, force))

    def revoke_role(self, email: str, role: Role) -> User:
        if role == Role.USER:
            raise InvalidInput("Every user keeps the user role; disable the user instead")
        return redone_on_lost_race(lambda: self._revoke_once(email, role))

    def unlock(self, email: str) -> User:
        """Forget the account's run of failed logins and its wait (devices keep theirs)."""
        if self._login_state is None:
            raise RuntimeError("unlocking needs the login state")
        account = self._account(email)
        self._login_state.clear_throttle(account.user.id)
        return account.user

    def _grant_once(self, email: str, role: Role, force: bool) -> User:
        account = self._account(email)
        if role in account.user.roles:
            return account.user
        if not account.user.email_verified and not force:
            raise UnverifiedEmail(
                f"{account.user.email} is not verified: its owner must verify it first "
                "(or grant with --force)"
            )
        return self._save_roles(account, (*account.user.roles, role), revoke_sessions=False)

    def _revoke_once(self, email: str, role: Role) -> User:
        account = self._account(email)
        if role not in account.user.roles:
            return account.user
        roles = tuple(kept for kept in account.user.roles if kept != role)
        return self._save_roles(account, roles, revoke_sessions=True)

    def _account(self, email: str) -> UserAccount:
        account = account_by_email(self._repository, email)
        if account is None:
            raise UserNotFound(f"No user with email {email}")
        return account

    def _save_roles(
        self, account: UserAccount, roles: tuple[Role, ...], *, revoke_sessions: bool
    ) -> User:
        now = self._clock()
        updated = account.changed(now, roles=roles)
        kept = None
        if Role.ADMIN not in roles:
            kept = admin_kept_after(self._repository, account)
        if revoke_sessions:
            updated = updated.with_sessions_revoked(now)
        self._repository.save(updated, account, admin_kept=kept)
        return updated.user
