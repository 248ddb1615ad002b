"""HTTP requests to /graphql refused before any operation runs, as client errors.

Strawberry refuses such requests with a plain-text HTTPException (bad JSON, wrong content
type, no query, a subscription over POST, a query over GET). Each becomes the domain error
a client can act on, answered in the GraphQL error shape with the same codes as REST:

* the body is not JSON, nests deeper than `core.jsonbody.MAX_DEPTH`, or is not
  `application/json`: 400 `malformed_json` (as REST says it);
* a subscription sent over HTTP: 400 `websocket_required`, saying to use graphql-transport-ws;
* a query or mutation over GET: 405 `method_not_allowed` (GET /graphql only serves GraphiQL);
* anything else Strawberry refuses as a request (no query, batching, `variables` not an
  object): 400 `invalid_query`.
"""

from __future__ import annotations

import json

from cross_web import HTTPException
from starlette.responses import JSONResponse
from strawberry.schema.exceptions import InvalidOperationTypeError
from strawberry.types.graphql import OperationType

from core.errors import DomainError, MalformedRequest
from core.jsonbody import JsonProblem
from schema.errors import error_payload

WEBSOCKET_HINT = (
    "Subscriptions are served over WebSocket only: open ws(s)://…/graphql with the "
    "graphql-transport-ws subprotocol, send the key in connection_init, then subscribe."
)


class WebSocketRequired(DomainError):
    status, code = 400, "websocket_required"


class MethodNotAllowed(DomainError):
    status, code = 405, "method_not_allowed"


class InvalidRequest(DomainError):
    status, code = 400, "invalid_query"


class RefusedJson(json.JSONDecodeError):
    """What `decode_json` raises: Strawberry's own handling of bad JSON applies (a 400 over
    HTTP, close 4400 over WebSocket) and the message survives for the answer."""

    def __init__(self, problem: JsonProblem) -> None:
        super().__init__(str(problem), "", 0)
        self.problem = problem


def refusal(exc: HTTPException) -> DomainError:
    cause = exc.__cause__
    if isinstance(cause, RefusedJson):
        return MalformedRequest(str(cause.problem))
    if isinstance(cause, json.JSONDecodeError) or exc.reason == "Unsupported content type":
        return MalformedRequest(
            'The body must be JSON ({"query": …, "variables": {…}}) sent as '
            "Content-Type: application/json."
        )
    if isinstance(cause, InvalidOperationTypeError):
        if cause.operation_type == OperationType.SUBSCRIPTION:
            return WebSocketRequired(WEBSOCKET_HINT)
        return MethodNotAllowed("GET /graphql serves GraphiQL; send operations with POST.")
    if exc.status_code == 405:
        return MethodNotAllowed("GraphQL accepts POST (and GET for GraphiQL).")
    return InvalidRequest(f"The GraphQL request was refused: {exc.reason}.")


def refusal_response(exc: DomainError) -> JSONResponse:
    body = {"data": None, "errors": [error_payload(exc)]}
    return JSONResponse(body, status_code=exc.status, headers=exc.headers)
