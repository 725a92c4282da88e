"""Domain errors; handlers map each to one HTTP status in a single table."""


class UserflowError(Exception):
    """Base of every error the domain raises on purpose."""

    message = "Request failed"

    def __init__(self, message: str | None = None, details: object | None = None) -> None:
        super().__init__(message or self.message)
        self.message = message or self.message
        self.details = details


class UserNotFound(UserflowError):
    message = "User not found"


class EmailAlreadyExists(UserflowError):
    message = "Email address is already registered"


class VersionConflict(UserflowError):
    message = "The user was changed by someone else; fetch it again and retry"


class WriteContention(UserflowError):
    """Other requests kept writing the same record while this one tried (and tried again)."""

    message = "The record is being changed by another request; try again"


class InvalidPrecondition(UserflowError):
    message = "If-Match must be an ETag returned by this API"


class InvalidCursor(UserflowError):
    message = "Cursor is invalid or was tampered with"


class PasswordPolicyViolation(UserflowError):
    message = "Password does not meet the policy"


class InvalidInput(UserflowError):
    message = "Invalid input"


class AuthenticationFailed(UserflowError):
    """One message for every credential failure, so callers cannot tell which part was wrong."""

    message = "Invalid credentials"


class AccessDenied(UserflowError):
    message = "Forbidden"


class InvalidRecoveryToken(UserflowError):
    """One message for an unknown, used, superseded or expired token: which one is not said."""

    message = "The link is invalid or has expired; ask for a new one"


class TooManyRequests(UserflowError):
    """Answered 429, with ``Retry-After`` when the wait is known."""

    message = "Too many requests; try again later"

    def __init__(self, message: str | None = None, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class LoginThrottled(TooManyRequests):
    message = "Too many failed logins; try again later"


class PasswordResetRequired(TooManyRequests):
    """NIST SP 800-63B's bound on consecutive failures: only a password reset ends the run."""

    message = "Too many failed logins: reset your password to log in again"


class LastAdmin(UserflowError):
    """Disabling or demoting it would leave no one able to administer users."""

    message = "The last enabled admin cannot be disabled or demoted"


class UnverifiedEmail(InvalidInput):
    """A role for an address nobody proved to own: whoever registered it first would get it."""

    message = "The email address is not verified"


class PasskeyNotFound(UserflowError):
    message = "Passkey not found"


class PasskeyNotRegistered(UserflowError):
    """One message for a registration that does not verify, whose challenge was used, expired or
    is another user's, or whose authenticator holds one of this service's passkeys already."""

    message = "The passkey could not be registered; ask for new options and try again"


class PasskeyLimitReached(UserflowError):
    message = "This account has as many passkeys as it may have; remove one first"


class LastSignInMethod(UserflowError):
    """Removing it would leave the user no way to sign in (no password, no usable passkey)."""

    message = "This is your last way to sign in; add a passkey or set a password first"


class MfaStateConflict(UserflowError):
    """The second factor is not in the state the request needs (already on, nothing pending)."""

    message = "Multi-factor authentication is not in a state that allows this"


class InvalidMfaCode(UserflowError):
    """A wrong or expired code while enrolling (at login, a wrong code is AuthenticationFailed)."""

    message = "The code is wrong or has expired"


class ReauthenticationRequired(AccessDenied):
    """A dangerous operation with neither the current password nor a recent enough login."""

    message = "Reauthentication required"
