"""Errors of the service layer, each with a stable machine ``code``.

Service functions raise these; the GraphQL layer turns them into typed union members
(``ValidationError``, ``NotFoundError``...) or, where a field has no union, into a
top-level GraphQL error whose ``extensions`` carry ``code`` and ``field``::

    AppError                    (code given)
    ├── NotFoundError           NOT_FOUND          (also: another tenant's object)
    ├── PermissionDeniedError   PERMISSION_DENIED  (role too low)
    ├── ValidationError         VALIDATION_FAILED  (field names the culprit)
    │                           WEAK_PASSWORD      (same class, field "password": zxcvbn score too low)
    ├── QuotaExceededError      QUOTA_EXCEEDED
    ├── AuthError               UNAUTHENTICATED    (missing, bad or expired credentials)
    │   └── TokenReusedError    TOKEN_REUSED       (a spent refresh token came back; family revoked)
    ├── ConflictError           CONFLICT           (duplicate email, last owner...)
    └── RateLimitedError        RATE_LIMITED       (``retry_after`` seconds)

Usage::

    try: await projects.get_project(principal, project_id)
    except AppError as ex: print(ex.code, ex.message, ex.field)
"""

from __future__ import annotations


class AppError(Exception):
    """Base of every expected service error; ``AppError(code, message, field=None)``."""

    code: str = "APP_ERROR"

    def __init__(self, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.field = field

    @property
    def message(self) -> str:
        return str(self.args[0]) if self.args else ""

    @property
    def extensions(self) -> dict[str, object]:
        """What a top-level GraphQL error shows (graphql-core copies it from the original error)."""
        return {"code": self.code, "field": self.field}


class _CodedError(AppError):
    """An AppError whose code is fixed by its class: ``NotFoundError("project not found", field="id")``."""

    default_message = "error"

    def __init__(self, message: str | None = None, field: str | None = None, *, code: str | None = None) -> None:
        super().__init__(code or type(self).code, message or self.default_message, field)


class NotFoundError(_CodedError):
    code = "NOT_FOUND"
    default_message = "not found"


class PermissionDeniedError(_CodedError):
    code = "PERMISSION_DENIED"
    default_message = "your role does not allow this"


class ValidationError(_CodedError):
    code = "VALIDATION_FAILED"
    default_message = "invalid input"


class QuotaExceededError(_CodedError):
    code = "QUOTA_EXCEEDED"
    default_message = "quota exceeded"


class AuthError(_CodedError):
    code = "UNAUTHENTICATED"
    default_message = "authentication required"


class TokenReusedError(AuthError):
    code = "TOKEN_REUSED"
    default_message = "refresh token reuse detected; the session was revoked, log in again"


class ConflictError(_CodedError):
    code = "CONFLICT"
    default_message = "conflict"


class RateLimitedError(_CodedError):
    code = "RATE_LIMITED"
    default_message = "too many attempts, try again later"

    def __init__(self, message: str | None = None, field: str | None = None, *, retry_after: int = 0) -> None:
        super().__init__(message, field)
        self.retry_after = retry_after

    @property
    def extensions(self) -> dict[str, object]:
        return {**super().extensions, "retryAfter": self.retry_after}


__all__ = [
    "AppError", "AuthError", "ConflictError", "NotFoundError", "PermissionDeniedError", "QuotaExceededError",
    "RateLimitedError", "TokenReusedError", "ValidationError",
]
