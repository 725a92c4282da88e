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
    message = "Too many requests; try again later"


class SearchUnavailable(UserflowError):
    """An index a search needs is still being built (a deploy added it): try again later."""

    message = "This search is not available yet (its index is being built); try again later"
