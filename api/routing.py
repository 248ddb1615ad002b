"""Which route a request is for, decided before the key is looked at.

So an unknown path is a 404 `not_found` and a known path with the wrong method a 405
`method_not_allowed` (with `Allow`), whether or not a valid key came with it. A fixed
path (`/qr/generate`) belongs to its own routes: `GET /qr/generate` is a 405, never a
lookup of the QR code with id "generate" through `/qr/{qr_id}`.
"""

from __future__ import annotations

from collections.abc import Sequence

from starlette.routing import BaseRoute, Match, Route
from starlette.types import Scope

from core.errors import DomainError, NotFound


class MethodNotAllowed(DomainError):
    status, code = 405, "method_not_allowed"


def route_refusal(routes: Sequence[BaseRoute], scope: Scope) -> DomainError | None:
    """None when a route takes the request (left in `scope["route"]`), else the refusal."""
    full: list[BaseRoute] = []
    partial: list[BaseRoute] = []
    for route in routes:
        match, _ = route.matches(scope)
        if match is Match.FULL:
            full.append(route)
        elif match is Match.PARTIAL:
            partial.append(route)
    fixed = [route for route in partial if _is_fixed(route)]
    if full and (not fixed or any(_is_fixed(route) for route in full)):
        scope["route"] = full[0]
        return None
    if fixed or partial:
        return _not_allowed(scope, fixed or partial)
    return NotFound(f"There is no {scope['path']!r} in this API; see /docs for what there is.")


def _is_fixed(route: BaseRoute) -> bool:
    return isinstance(route, Route) and not route.param_convertors


def _not_allowed(scope: Scope, routes: Sequence[BaseRoute]) -> MethodNotAllowed:
    allowed = sorted({m for r in routes if isinstance(r, Route) for m in r.methods or ()})
    scope["route"] = routes[0]
    return MethodNotAllowed(
        f"{scope['method']} is not allowed on {scope['path']}; use {', '.join(allowed)}.",
        headers={"Allow": ", ".join(allowed)},
    )
