"""Typed GraphQL errors: every expected failure is a union member implementing the ``Error`` interface.

``code`` is stable (clients switch on it), ``message`` is for humans, ``field`` names the argument or input
field at fault (camelCase), when one is. ``to_graphql_error`` maps a service AppError to its type::

    @strawberry.mutation
    async def create_project(...) -> Annotated[ProjectPayload | ValidationError | ..., strawberry.union(...)]:
        try: ...
        except AppError as ex: return to_graphql_error(ex)
"""

from __future__ import annotations

import typing
from typing import Annotated, Any

import strawberry

from app import errors as app_errors


@strawberry.interface(description="An expected failure; `code` is stable, `message` human, `field` the culprit.")
class Error:
    code: str
    message: str
    field: str | None = None


@strawberry.type(description="Input failed validation (code VALIDATION_FAILED).")
class ValidationError(Error):
    pass


@strawberry.type(description="No such object in your tenant (code NOT_FOUND); also for other tenants' ids.")
class NotFoundError(Error):
    pass


@strawberry.type(description="Your role in this tenant does not allow it (code PERMISSION_DENIED).")
class PermissionDeniedError(Error):
    pass


@strawberry.type(description="A tenant limit is reached (code QUOTA_EXCEEDED); `field` names the limit.")
class QuotaExceededError(Error):
    pass


@strawberry.type(description="Credentials missing, wrong or expired (code UNAUTHENTICATED).")
class UnauthenticatedError(Error):
    pass


@strawberry.type(description="A spent refresh token was presented again; its whole session family is revoked "
                             "(code TOKEN_REUSED).")
class TokenReusedError(Error):
    pass


@strawberry.type(description="The request conflicts with the current state, e.g. a taken email or the last "
                             "owner (code CONFLICT).")
class ConflictError(Error):
    pass


@strawberry.type(description="Too many attempts (code RATE_LIMITED); retry after `retryAfter` seconds.")
class RateLimitedError(Error):
    retry_after: int = 0


_TYPES: list[tuple[type[app_errors.AppError], type[Error]]] = [
    (app_errors.RateLimitedError, RateLimitedError),
    (app_errors.TokenReusedError, TokenReusedError),
    (app_errors.AuthError, UnauthenticatedError),
    (app_errors.NotFoundError, NotFoundError),
    (app_errors.PermissionDeniedError, PermissionDeniedError),
    (app_errors.ValidationError, ValidationError),
    (app_errors.QuotaExceededError, QuotaExceededError),
    (app_errors.ConflictError, ConflictError),
]


def to_graphql_error(ex: app_errors.AppError, allowed: tuple[type[Error], ...] | None = None) -> Error:
    """The typed error for ``ex``; re-raises ``ex`` when its type is not in ``allowed`` (-> top-level error)."""
    for app_type, gql_type in _TYPES:
        if isinstance(ex, app_type) and (allowed is None or gql_type in allowed):
            if gql_type is RateLimitedError:
                return RateLimitedError(code=ex.code, message=ex.message, field=ex.field,
                                        retry_after=getattr(ex, "retry_after", 0))
            return gql_type(code=ex.code, message=ex.message, field=ex.field)
    raise ex


ALL_ERROR_TYPES: tuple[type[Error], ...] = tuple(t for _, t in _TYPES)


def error_for(ex: app_errors.AppError, result: object) -> Any:
    """The member of the ``Annotated[A | B | ..., strawberry.union(...)]`` result union that reports ``ex``.

    AppErrors the union does not list are re-raised (they become top-level errors with ``extensions.code``).
    """
    members = typing.get_args(typing.get_args(result)[0]) if typing.get_origin(result) is Annotated else ()
    allowed = tuple(m for m in members if isinstance(m, type) and issubclass(m, Error))
    return to_graphql_error(ex, allowed)
