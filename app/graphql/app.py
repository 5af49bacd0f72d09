"""The /graphql ASGI app: HTTP POST (JSON, no batching, no GET) and websockets (graphql-transport-ws only).

A body that is not UTF-8 JSON (or holds lone surrogates, which no database column can store) is a 400
with ``errors[0].extensions.code`` ``INVALID_JSON`` / ``INVALID_ENCODING``, never a 500.

    from app.graphql.app import make_graphql_app
    routes.append(Mount("/graphql", app=make_graphql_app(settings)))   # or Route(..., endpoint=...)
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL

from app.config import Settings
from app.errors import AuthError
from app.graphql.context import RecapContext
from app.graphql.limits import BodySizeLimit
from app.graphql.schema import RecapSchema, build_schema
from app.http_body import BadTextError, decode_json_text


class RecapGraphQL(GraphQL[RecapContext, None]):
    def __init__(self, schema: RecapSchema, settings: Settings, **kwargs: Any) -> None:
        super().__init__(schema, **kwargs)
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        except BadTextError as ex:  # raised while decoding, before any response started
            body = {"data": None, "errors": [{"message": str(ex), "extensions": {"code": ex.code}}]}
            await JSONResponse(body, status_code=400)(scope, receive, send)

    def decode_json(self, data: str | bytes) -> object:
        return decode_json_text(data)

    async def get_context(self, request: Request | WebSocket, response: Response | WebSocket) -> RecapContext:
        return RecapContext(settings=self.settings, request=request, response=response,
                            is_websocket=isinstance(request, WebSocket))

    async def on_ws_connect(self, context: RecapContext) -> None:
        """Refuse the connection (close 4403) unless ``connection_init`` carries a valid bearer token.

        The membership and role are checked at every ``subscribe`` (``IsAuthenticated``), not here.
        """
        try:
            context.claimed()
        except AuthError as ex:
            raise ConnectionRejectionError({"code": ex.code, "message": ex.message}) from ex


def make_graphql_app(settings: Settings) -> ASGIApp:
    """The GraphQL endpoint configured from ``settings`` (limits, IDE/introspection off in production)."""
    schema = build_schema(settings.graphql, production=settings.is_production, ratelimit=settings.ratelimit)
    view = RecapGraphQL(
        schema, settings,
        graphql_ide=None if settings.is_production else "graphiql",
        allow_queries_via_get=False,
        subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
        connection_init_wait_timeout=timedelta(seconds=10),
        max_subscriptions_per_connection=settings.graphql.max_subscriptions_per_connection,
        multipart_uploads_enabled=False,
    )
    return BodySizeLimit(view, settings.graphql.max_query_bytes)
