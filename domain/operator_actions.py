"""What operators do to accounts from the CLI (`userflow admin grant|revoke|unlock`), with no
caller to check: the operator's AWS credentials are the authority.

- A role goes only to an address its owner proved (``email_verified``): otherwise whoever
  registered a new hire's address before they did would receive their role. ``force`` overrides
  (the CLI warns).
- Revoking a role ends every session of the user (refresh families, access tokens, trusted
  devices), so the role leaves with them at once rather than at the next refresh.
- The last enabled admin is never demoted (nor disabled: domain/user_service.py), so that someone
  can always administer users.
"""

from __future__ import annotations

from domain.clock import Clock, utc_now
from domain.email_address import lookup_forms
from domain.errors import InvalidInput, UnverifiedEmail, UserNotFound
from domain.last_admin import admin_kept_after
from domain.ports import LoginStateRepository, UserRepository
from domain.user_service import redone_on_lost_race
from domain.users import Role, User, UserAccount


class OperatorActions:
    def __init__(
        self,
        repository: UserRepository,
        login_state: LoginStateRepository | None = None,
        clock: Clock = utc_now,
    ) -> None:
        self._repository = repository
        self._login_state = login_state
        self._clock = clock

    def grant_role(self, email: str, role: Role, *, force: bool = False) -> User:
        return redone_on_lost_race(lambda: self._grant_once(email, role, force))

    def revoke_role(self, email: str, role: Role) -> User:
        if role == Role.USER:
            raise InvalidInput("Every user keeps the user role; disable the user instead")
        return redone_on_lost_race(lambda: self._revoke_once(email, role))

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

    def unlock(self, email: str) -> User:
        """Forget the account's run of failed logins and its wait (devices keep theirs)."""
        if self._login_state is None:
            raise RuntimeError("unlocking needs the login state")
        account = self._account(email)
        self._login_state.clear_throttle(account.user.id)
        return account.user

    def _account(self, email: str) -> UserAccount:
        """Looked up in every stored form (accounts made before today's address rules too)."""
        found = (self._repository.find_by_email(form) for form in lookup_forms(email))
        account = next(filter(None, found), None)
        if account is None:
            raise UserNotFound(f"No user with email {email}")
        return account

    def _save_roles(
        self, account: UserAccount, roles: tuple[Role, ...], *, revoke_sessions: bool
    ) -> User:
        now = self._clock()
        updated = account.model_copy(
            update={
                "user": account.user.model_copy(
                    update={"roles": roles, "version": account.user.version + 1, "updated_at": now}
                )
            }
        )
        kept = None
        if Role.ADMIN not in roles:
            kept = admin_kept_after(self._repository, account)
        if revoke_sessions:
            updated = updated.with_sessions_revoked(now)
        self._repository.save(updated, account, admin_kept=kept)
        return updated.user
