"""The outermost layer of an HTTP app: a request id, one access line, the request metrics.

The id is the client's `X-Request-Id` when it is a sane token (letters, digits and
`._~:/+=@-`, at most 128 characters), else a new random one; it is returned on every
response, attached to every log record written while the request is served, and
left in `scope["state"]["request_id"]`. The access line names the method, the path
(never the query), the status, the time taken and the API key id when there is one;
never the client's IP (qrmint keeps no raw IP anywhere).
"""

from __future__ import annotations

import logging
import re
import secrets
import time
from typing import Any

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ops.logs import REQUEST_ID
from ops.metrics import observe_request

log = logging.getLogger(__name__)

HEADER = "x-request-id"
_SANE = re.compile(r"[A-Za-z0-9._~:/+=@-]{1,128}")
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED = "unmatched"  # the route label of paths that match no route


def request_id_of(scope: Scope) -> str:
    for name, value in scope["headers"]:
        if name == b"x-request-id":
            candidate: str = value.decode("latin-1")
            if _SANE.fullmatch(candidate):
                return candidate
            break
    return secrets.token_hex(16)


def route_of(scope: Scope) -> str:
    """The matched route's template (`/qr/{qr_id}`): a label that cannot explode."""
    route = scope.get("route")
    path: object = getattr(route, "path", None)
    return path if isinstance(path, str) else UNMATCHED


class RequestObserver:
    def __init__(self, app: ASGIApp, *, app_name: str, access_log: bool = True) -> None:
        self.app = app
        self.app_name = app_name
        self.access_log = access_log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = request_id_of(scope)
        scope.setdefault("state", {})["request_id"] = request_id
        token = REQUEST_ID.set(request_id)
        started = time.perf_counter()
        status = 500  # what the client gets if the app fails before answering

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message)[HEADER] = request_id
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            self._finish(scope, status, time.perf_counter() - started)
            REQUEST_ID.reset(token)

    def _finish(self, scope: Scope, status: int, seconds: float) -> None:
        method = scope["method"] if scope["method"] in _METHODS else "OTHER"
        route = route_of(scope)
        observe_request(self.app_name, method, route, status, seconds)
        if self.access_log:
            fields = _access_fields(scope, method, route, status, seconds)
            log.info("%s %s %d %.1fms", method, scope["path"], status, seconds * 1000, extra=fields)


def _access_fields(
    scope: Scope, method: str, route: str, status: int, seconds: float
) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "method": method,
        "path": scope["path"],
        "route": route,
        "status": status,
        "duration_ms": round(seconds * 1000, 3),
        "request_id": scope["state"]["request_id"],
    }
    principal = scope.get("state", {}).get("principal")
    key_id = getattr(principal, "key_id", None)
    if key_id:
        fields["key_id"] = key_id
    return fields
