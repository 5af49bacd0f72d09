"""Per-request GraphQL context: settings, the request, the client IP and the caller's Principal.

HTTP: the token comes from ``Authorization: Bearer``; it is checked once per request.
WebSocket (graphql-transport-ws): the token comes from the ``connection_init`` payload
(``{"authorization": "Bearer ..."}``) and is checked again at every subscribe, so an access token
that expires while the socket stays open cannot start new subscriptions.

"Checked" means: the signature and claims are verified, then the caller's CURRENT membership and role
are read (``app.auth.access``, a 30 s Redis cache invalidated on change); the role in the token is ignored.
``IsAuthenticated`` runs :meth:`RecapContext.authenticate`; resolvers then read the result synchronously.

    principal = await info.context.authenticate()   # in permissions; raises AuthError (UNAUTHENTICATED)
    principal = info.context.principal()            # in resolvers behind IsAuthenticated
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import HTTPConnection

from app.auth import access
from app.auth.principal import Principal
from app.auth.tokens import bearer_token, decode_access_token
from app.config import Settings
from app.errors import AuthError

#: The principal checked for the current websocket operation (each operation runs in its own task).
_OPERATION_PRINCIPAL: ContextVar[Principal | None] = ContextVar("recap_operation_principal", default=None)


@dataclass
class RecapContext:
    settings: Settings
    request: HTTPConnection
    response: Any = None
    is_websocket: bool = False
    #: Set by strawberry from the graphql-transport-ws ``connection_init`` payload.
    connection_params: Any = None
    _principal: Principal | None = field(default=None, repr=False)
    _auth_error: AuthError | None = field(default=None, repr=False)

    @property
    def client_ip(self) -> str | None:
        client = self.request.client
        return client.host if client else None

    def token(self) -> str | None:
        """The raw bearer token of this request or websocket connection, if any."""
        if self.is_websocket:
            params = self.connection_params if isinstance(self.connection_params, dict) else {}
            value = params.get("authorization") or params.get("Authorization")
            return bearer_token(value) if isinstance(value, str) else None
        return bearer_token(self.request.headers.get("authorization"))

    def claimed(self) -> Principal:
        """The token's claims, verified (signature, expiry...) but not the membership: ``connection_init`` only."""
        token = self.token()
        if token is None:
            raise AuthError("authentication required: send Authorization: Bearer <access token>")
        return decode_access_token(token, settings=self.settings.auth)

    async def authenticate(self) -> Principal:
        """Verify the token and read the caller's current role (once per HTTP request, per websocket subscribe).

        Raises:
            AuthError: missing, invalid or expired token; account disabled; membership gone.
        """
        if not self.is_websocket:
            if self._principal is not None:
                return self._principal
            if self._auth_error is not None:
                raise self._auth_error
        try:
            principal = await access.current_principal(self.claimed(), self._redis())
        except AuthError as ex:
            if not self.is_websocket:
                self._auth_error = ex
            raise
        if self.is_websocket:
            _OPERATION_PRINCIPAL.set(principal)
        else:
            self._principal = principal
        return principal

    def _redis(self) -> Any:
        from app.redis import get_redis

        return get_redis(self.settings) if self.settings.redis_url else None

    def principal(self) -> Principal:
        """The caller as checked by :meth:`authenticate` (IsAuthenticated ran it); AuthError otherwise."""
        principal = _OPERATION_PRINCIPAL.get() if self.is_websocket else self._principal
        if principal is not None:
            return principal
        if self._auth_error is not None and not self.is_websocket:
            raise self._auth_error
        raise AuthError("authentication required: send Authorization: Bearer <access token>")
