"""Per-request GraphQL context: settings, the request, the client IP and the caller's Principal.

HTTP: the token comes from ``Authorization: Bearer``; it is decoded once per request.
WebSocket (graphql-transport-ws): the token comes from the ``connection_init`` payload
(``{"authorization": "Bearer ..."}``) and is decoded again at every subscribe, so an access token
that expires while the socket stays open cannot start new subscriptions.

    principal = info.context.principal()     # raises AuthError (top-level UNAUTHENTICATED)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from starlette.requests import HTTPConnection

from app.auth.principal import Principal
from app.auth.tokens import bearer_token, decode_access_token
from app.config import Settings
from app.errors import AuthError


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

    def principal(self) -> Principal:
        """The authenticated caller; raises AuthError when the token is missing, invalid or expired."""
        if self._principal is not None and not self.is_websocket:
            return self._principal
        if self._auth_error is not None and not self.is_websocket:
            raise self._auth_error
        token = self.token()
        try:
            if token is None:
                raise AuthError("authentication required: send Authorization: Bearer <access token>")
            principal = decode_access_token(token, settings=self.settings.auth)
        except AuthError as ex:
            self._auth_error = ex
            raise
        self._principal = principal
        return principal
