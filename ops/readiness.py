"""`GET /readyz`: does every store this process was configured with answer right now?

Each check is a small async callable that raises when its part does not answer; all run
side by side, each within `TIMEOUT` seconds. 200 with `{"status": "ready", "checks":
{"database": "ok", …}}` when all pass, else 503 with the same `checks` (the failing ones
say why) and an `error` in the API's usual shape naming the parts that failed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

Check = Callable[[], Awaitable[object]]
TIMEOUT = 2.0
OK = "ok"


async def run_checks(checks: Mapping[str, Check], limit: float = TIMEOUT) -> dict[str, str]:
    names = list(checks)
    results = await asyncio.gather(*(_one(checks[name], limit) for name in names))
    return dict(zip(names, results, strict=True))


async def _one(check: Check, limit: float) -> str:
    try:
        async with asyncio.timeout(limit):
            await check()
    except TimeoutError:
        return f"no answer within {limit:g} s"
    except Exception as exc:
        return " ".join(f"{type(exc).__name__}: {exc}".split())[:300]
    return OK


def readiness_body(results: Mapping[str, str]) -> tuple[int, dict[str, Any]]:
    failing = [name for name, result in results.items() if result != OK]
    if not failing:
        return 200, {"status": "ready", "checks": dict(results)}
    message = "Not ready: " + "; ".join(f"{name}: {results[name]}" for name in failing)
    error = {"code": "service_unavailable", "message": message, "parts": failing}
    return 503, {"status": "unavailable", "checks": dict(results), "error": error}


def readiness_route(checks: Mapping[str, Check]) -> Route:
    async def readyz(request: Request) -> Response:
        status, body = readiness_body(await run_checks(checks))
        return JSONResponse(body, status_code=status, headers={"Cache-Control": "no-store"})

    return Route("/readyz", readyz, methods=["GET"])
