"""The /graphql endpoint: POST for operations, GET for GraphiQL, WebSocket for subscriptions.

Mounted by `api.app.create_api_app(services, extra_routes=graphql_routes(services))`, behind
the ApiGate. GraphiQL is `ops.pages.graphiql_page`, every asset served by qrmint.
Queries over GET are switched off: the gate leaves GET /graphql open (for the
GraphiQL page), so GET must not execute anything. Requests Strawberry refuses before any
operation runs are client errors in the GraphQL shape (`schema.refusals`), never a 500.

WebSockets bypass the gate, so graphql-transport-ws gets our admission instead
(`schema.ws_limits` holds the numbers):
* `connection_init` must come within CONNECTION_INIT_TIMEOUT (else close 4408);
* it is authenticated from its payload (or the upgrade headers); a bad key spends from the
  same anonymous per-client bucket as REST: close 4403 while the bucket lasts, then 4429;
* every subscribe re-checks the key and spends from its rate limit, and at most
  MAX_PER_CONNECTION operations per connection and MAX_PER_KEY subscriptions per key run
  at once; a refused operation gets the protocol's `error` message with `extensions.code`;
* a message that is not the protocol's shape closes the connection with 4400.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, cast

from cross_web import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http import GraphQLRequestData
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import (
    ConnectionInitMessage,
    ErrorMessage,
    Message,
    SubscribeMessage,
)
from strawberry.types.unset import UnsetType

from core import jsonbody
from core.errors import DomainError, Throttled
from core.services import Services
from ops.pages import graphiql_page
from schema import ws_limits
from schema.context import GraphQLContext
from schema.errors import error_payload
from schema.refusals import RefusedJson, refusal, refusal_response
from schema.root import schema

PATH = "/graphql"


class AdmittingTransportWSHandler(BaseGraphQLTransportWSHandler[GraphQLContext, None]):
    async def handle_message(self, message: Message) -> None:
        problem = ws_limits.message_problem(message)
        if problem is not None:
            await self.handle_invalid_message(problem)
            return
        await super().handle_message(message)

    async def handle_connection_init(self, message: ConnectionInitMessage) -> None:
        try:
            await super().handle_connection_init(message)
        except ws_limits.TooManyAttempts as exc:
            await self.websocket.close(code=4429, reason=exc.reason)

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        # Before the ack or for a duplicate id the base class closes the socket: let it.
        if not self.connection_acknowledged or message["id"] in self.operations:
            await super().handle_subscribe(message)
            return
        ledger = cast(GraphQLView, self.view).ledger
        try:
            ws_limits.check_connection(len(self.operations))
            await self.context.admit_operation()
            key_id = self.context.key_id()
            ledger.acquire(key_id)
        except DomainError as exc:
            refusal = {"id": message["id"], "type": "error", "payload": [error_payload(exc)]}
            await self.send_message(cast(ErrorMessage, refusal))
            return
        await super().handle_subscribe(message)
        operation = self.operations.get(message["id"])
        if operation is None or operation.task is None:
            ledger.release(key_id)
            return
        operation.task.add_done_callback(lambda _task: ledger.release(key_id))


class GraphQLView(GraphQL[GraphQLContext, None]):
    graphql_transport_ws_handler_class = AdmittingTransportWSHandler

    def __init__(self, services: Services) -> None:
        super().__init__(
            schema,
            graphql_ide="graphiql",
            allow_queries_via_get=False,
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
            connection_init_wait_timeout=ws_limits.CONNECTION_INIT_TIMEOUT,
            max_subscriptions_per_connection=None,  # ours, with a code: ws_limits
        )
        self.services = services
        self.ledger = ws_limits.SubscriptionLedger()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        try:
            response = await self.run(Request(scope=scope, receive=receive))
        except HTTPException as exc:
            response = refusal_response(refusal(exc))
        except DomainError as exc:
            response = refusal_response(exc)
        await response(scope, receive, send)

    def decode_json(self, data: str | bytes) -> object:
        """Every JSON text this view reads (bodies, GET variables, WebSocket messages):
        bounded in depth, and an object (a batch, a bare string... is not a request)."""
        try:
            value = jsonbody.loads(data)
        except jsonbody.JsonProblem as problem:
            raise RefusedJson(problem) from None
        if not isinstance(value, dict):
            raise RefusedJson(jsonbody.JsonProblem("The JSON must be an object."))
        return value

    async def execute_operation(self, *args: Any, **kwargs: Any) -> Any:
        # Subscriptions over HTTP (multipart or not) are refused by the schema's `execute`,
        # with a pointer to WebSocket: never streamed.
        data = kwargs.get("request_data")
        if isinstance(data, GraphQLRequestData) and data.protocol != "http":
            kwargs["request_data"] = replace(data, protocol="http")
        return await super().execute_operation(*args, **kwargs)

    async def render_graphql_ide(self, request: Request) -> Response:
        # Our own page: every asset served by qrmint (no CDN), under a strict CSP.
        return graphiql_page()

    async def get_context(self, request: Request | WebSocket, response: Any) -> GraphQLContext:
        state = request.scope.get("state") or {}
        return GraphQLContext(self.services, request, state.get("principal"))

    async def on_ws_connect(self, context: GraphQLContext) -> UnsetType | dict[str, object] | None:
        try:
            await context.connect()
        except Throttled as exc:
            raise ws_limits.TooManyAttempts(exc.message) from None
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
