"""Domain errors → REST responses, in one place."""

from __future__ import annotations

import logging

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Scope

from core.errors import DomainError

log = logging.getLogger(__name__)

_HTTP_CODES = {404: "not_found", 405: "method_not_allowed", 400: "bad_request"}


def error_response(exc: DomainError, *, graphql: bool = False) -> JSONResponse:
    """`graphql`: refused before the GraphQL layer ran, still answered in its error shape."""
    body = exc.as_body()
    if graphql:
        extensions: dict[str, object] = {"code": exc.code}
        if exc.details:
            extensions["details"] = [problem.as_dict() for problem in exc.details]
        body = {"data": None, "errors": [{"message": exc.message, "extensions": extensions}]}
    return JSONResponse(body, status_code=exc.status, headers=exc.headers)


def unexpected_response(scope: Scope) -> JSONResponse:
    # Logged with the traceback for us; the caller gets a stable body and no internals.
    log.exception("unhandled error on %s %s", scope.get("method"), scope.get("path"))
    body = {"error": {"code": "internal_error", "message": "Something went wrong on our side."}}
    return JSONResponse(body, status_code=500)


async def on_domain_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DomainError)
    return error_response(exc)


async def on_http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    code = _HTTP_CODES.get(exc.status_code, "http_error")
    message = "No such route." if exc.status_code == 404 else str(exc.detail)
    body = {"error": {"code": code, "message": message}}
    return JSONResponse(body, status_code=exc.status_code, headers=exc.headers)
