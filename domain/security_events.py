"""Security events (docs/events/security-events.md): what each one says, and when a change is one.

Every security event is a notification of one change of a user, published from the table's
stream like the lifecycle events, with the same guarantees: its ``event_id`` is derived from its
detail-type, the user id and the change's ``user.version`` (``lifecycle_event_id``), and it
carries the public ``user`` at that version and the ``actor``. A change that alters a public field
also publishes its ``UserUpdated``; one that alters none (a password, sessions, a lock) publishes
only its security events. Subscribers fold all of them by the same rule (greatest version wins).

The writer of a change stamps the security events it is on the user item, in the same write
(``SecurityStamp``; adapters/security_stamps.py): the stream then carries them, and a replay from
the table can publish the latest of each kind again. ``domain.security_stamps`` decides them for
the writes that store a whole account; the login bookkeeping's writes stamp their own (a lock,
an unlock, a revocation, a used recovery code). Adding an event is its detail model here and one
``STAMP_RULES`` entry there.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from domain.event_details import EventDetail, UtcTimestamp
from domain.event_types import DetailType
from domain.security_reasons import PasswordChangeReason, RevocationReason, SessionScope
from domain.users import Email, Role


class PasswordChangedDetail(EventDetail):
    """Never for a re-hash of the same password (a cost upgrade, an import's lazy migration)."""

    reason: PasswordChangeReason


class EmailVerifiedDetail(EventDetail):
    """``user.email`` is the address just verified."""


class EmailChangedDetail(EventDetail):
    old_email: Email
    new_email: Email


class SessionsRevokedDetail(EventDetail):
    scope: SessionScope
    reason: RevocationReason


class AccountLockedDetail(EventDetail):
    """The login throttle started making the account wait (docs/api/auth.md, "Login throttling");
    each further failure lengthens the wait without another event. No event when it runs out."""

    locked_until: UtcTimestamp


class AccountUnlockedDetail(EventDetail):
    """The wait was lifted before its end: by an operator (`userflow admin unlock`) or a
    password reset."""


class UserDisabledDetail(EventDetail):
    pass


class UserEnabledDetail(EventDetail):
    pass


class RoleGrantedDetail(EventDetail):
    roles: Annotated[list[Role], Field(min_length=1, description="The roles granted")]


class RoleRevokedDetail(EventDetail):
    roles: Annotated[list[Role], Field(min_length=1, description="The roles revoked")]


class MfaEnabledDetail(EventDetail):
    pass


class MfaDisabledDetail(EventDetail):
    pass


class RecoveryCodeUsedDetail(EventDetail):
    remaining: int = Field(ge=0, description="Recovery codes left unused")


class PasskeyAddedDetail(EventDetail):
    """``user.passkey_count`` is the new count; which passkey is never said."""


class PasskeyRemovedDetail(EventDetail):
    """``user.passkey_count`` is the new count."""


SECURITY_DETAIL_MODELS: dict[DetailType, type[EventDetail]] = {
    DetailType.PASSWORD_CHANGED: PasswordChangedDetail,
    DetailType.EMAIL_VERIFIED: EmailVerifiedDetail,
    DetailType.EMAIL_CHANGED: EmailChangedDetail,
    DetailType.SESSIONS_REVOKED: SessionsRevokedDetail,
    DetailType.ACCOUNT_LOCKED: AccountLockedDetail,
    DetailType.ACCOUNT_UNLOCKED: AccountUnlockedDetail,
    DetailType.USER_DISABLED: UserDisabledDetail,
    DetailType.USER_ENABLED: UserEnabledDetail,
    DetailType.ROLE_GRANTED: RoleGrantedDetail,
    DetailType.ROLE_REVOKED: RoleRevokedDetail,
    DetailType.MFA_ENABLED: MfaEnabledDetail,
    DetailType.MFA_DISABLED: MfaDisabledDetail,
    DetailType.RECOVERY_CODE_USED: RecoveryCodeUsedDetail,
    DetailType.PASSKEY_ADDED: PasskeyAddedDetail,
    DetailType.PASSKEY_REMOVED: PasskeyRemovedDetail,
}
