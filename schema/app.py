"""The /graphql endpoint: POST for operations, GET for GraphiQL, WebSocket for subscriptions.

Mounted by `api.app.create_api_app(services, extra_routes=graphql_routes(services))`, behind
the ApiGate. GraphiQL is `ops.pages.graphiql_page`, every asset served by qrmint.
Queries over GET are switched off: the gate leaves GET /graphql open (for the
GraphiQL page), so GET must not execute anything.

WebSockets bypass the gate, so graphql-transport-ws gets our admission instead: the
connection is authenticated at `connection_init` (refused: close 4403, as the protocol
says), and every subscribe re-checks the key and spends from its rate limit; a refused
operation gets the protocol's `error` message with `extensions.code` like any other error.
"""

from __future__ import annotations

from typing import Any, cast

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import (
    ErrorMessage,
    SubscribeMessage,
)
from strawberry.types.unset import UnsetType

from core.errors import DomainError
from core.services import Services
from ops.pages import graphiql_page
from schema.context import GraphQLContext
from schema.errors import error_payload
from schema.root import schema

PATH = "/graphql"


class AdmittingTransportWSHandler(BaseGraphQLTransportWSHandler[GraphQLContext, None]):
    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        # Before the ack or for a duplicate id the base class closes the socket: let it.
        if self.connection_acknowledged and message["id"] not in self.operations:
            try:
                await self.context.admit_operation()
            except DomainError as exc:
                refusal = {"id": message["id"], "type": "error", "payload": [error_payload(exc)]}
                await self.send_message(cast(ErrorMessage, refusal))
                return
        await super().handle_subscribe(message)


class GraphQLView(GraphQL[GraphQLContext, None]):
    graphql_transport_ws_handler_class = AdmittingTransportWSHandler

    def __init__(self, services: Services) -> None:
        super().__init__(
            schema,
            graphql_ide="graphiql",
            allow_queries_via_get=False,
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
        )
        self.services = services

    async def render_graphql_ide(self, request: Request) -> Response:
        # Our own page: every asset served by qrmint (no CDN), under a strict CSP.
        return graphiql_page()

    async def get_context(self, request: Request | WebSocket, response: Any) -> GraphQLContext:
        state = request.scope.get("state") or {}
        return GraphQLContext(self.services, request, state.get("principal"))

    async def on_ws_connect(self, context: GraphQLContext) -> UnsetType | dict[str, object] | None:
        try:
            await context.connect()
        except DomainError as exc:
            # The protocol's answer to a refused connection_init: close with 4403 Forbidden.
            raise ConnectionRejectionError({"code": exc.code, "message": exc.message}) from None
        return UnsetType()  # a plain connection_ack, no payload


def graphql_routes(services: Services) -> list[BaseRoute]:
    view = GraphQLView(services)
    return [
        Route(PATH, view, methods=["GET", "POST"]),
        WebSocketRoute(PATH, view),
    ]
