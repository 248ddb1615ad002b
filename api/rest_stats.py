"""GET /qr/{qr_id}/stats: the shape of CONTRACT.md §5."""

from __future__ import annotations

from datetime import date
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from analytics.service import StatsReport
from api.context import principal_of, services_of
from core.errors import invalid_field


def _ranked(pairs: tuple[tuple[str, int], ...]) -> list[dict[str, Any]]:
    return [{"key": key, "scans": scans} for key, scans in pairs]


def stats_body(report: StatsReport) -> dict[str, Any]:
    stats = report.stats
    return {
        "qr_id": report.qr_id,
        "retention_days": report.window.retention_days,
        "window": {"from": report.window.start.isoformat(), "to": report.window.end.isoformat()},
        "total_scans": stats.total_scans,
        "unique_scans": stats.unique_scans,
        "repeat_scans": stats.repeat_scans,
        "by_day": [
            {"date": day.isoformat(), "scans": scans, "unique_scans": unique}
            for day, scans, unique in stats.by_day
        ],
        "by_country": _ranked(stats.by_country),
        "by_city": [
            {"key": city, "country": country, "scans": scans}
            for city, country, scans in stats.by_city
        ],
        "by_device": _ranked(stats.by_device),
        "by_browser": _ranked(stats.by_browser),
        "by_os": _ranked(stats.by_os),
    }


def _date_param(request: Request, name: str) -> date | None:
    raw = request.query_params.get(name) or None
    if raw is None:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise invalid_field(name, f"{name} is {raw!r}; expected a date as YYYY-MM-DD.") from None


async def qr_stats(request: Request) -> JSONResponse:
    services = services_of(request)
    start, end = _date_param(request, "from"), _date_param(request, "to")
    principal = principal_of(request)
    report: StatsReport = await services.stats.stats(
        principal, request.path_params["qr_id"], start, end
    )
    return JSONResponse(stats_body(report))


routes = [Route("/qr/{qr_id}/stats", qr_stats, methods=["GET"])]
