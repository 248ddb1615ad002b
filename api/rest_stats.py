"""Scan analytics over REST: stats, the CSV export of raw scans, refused scans per domain."""

from __future__ import annotations

from datetime import date
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, StreamingResponse
from starlette.routing import Route

from analytics.refusals import DomainRefusals
from analytics.service import RefusalsReport, StatsReport
from api.context import principal_of, services_of
from core.errors import invalid_field
from core.routing import WEEKDAYS
from core.windows import Window


def _ranked(pairs: tuple[tuple[str, int], ...]) -> list[dict[str, Any]]:
    return [{"key": key, "scans": scans} for key, scans in pairs]


def _window(window: Window) -> dict[str, str]:
    return {"from": window.start.isoformat(), "to": window.end.isoformat()}


def stats_body(report: StatsReport) -> dict[str, Any]:
    stats = report.stats
    return {
        "qr_id": report.qr_id,
        "retention_days": report.window.retention_days,
        "window": _window(report.window),
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
        "bot_scans": stats.bot_scans,
        "by_referrer": _ranked(stats.by_referrer),
        "by_language": _ranked(stats.by_language),
        "tz": report.tz,
        "by_hour": [{"hour": hour, "scans": scans} for hour, scans in enumerate(stats.by_hour)],
        "by_weekday": [
            {"day": day, "scans": scans}
            for day, scans in zip(WEEKDAYS, stats.by_weekday, strict=True)
        ],
        "by_target": _ranked(stats.by_target),
        "by_outcome": _ranked(stats.by_outcome),
    }


def refusals_body(report: RefusalsReport) -> dict[str, Any]:
    return {
        "retention_days": report.window.retention_days,
        "window": _window(report.window),
        "domains": [_domain_refusals(found) for found in report.domains],
    }


def _domain_refusals(found: DomainRefusals) -> dict[str, Any]:
    return {
        "domain": found.domain or None,
        "refused_scans": found.total,
        "by_day": [{"date": day.isoformat(), "scans": scans} for day, scans in found.by_day],
        "by_reason": _ranked(found.by_reason),
        "by_code": _ranked(found.by_code),
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
    tz = request.query_params.get("tz") or None
    principal = principal_of(request)
    report: StatsReport = await services.stats.stats(
        principal, request.path_params["qr_id"], start, end, tz
    )
    return JSONResponse(stats_body(report))


async def scans_csv(request: Request) -> StreamingResponse:
    start, end = _date_param(request, "from"), _date_param(request, "to")
    qr_id = request.path_params["qr_id"]
    window, rows = await services_of(request).stats.export_csv(
        principal_of(request), qr_id, start, end
    )
    name = f"{qr_id}-{window.start.isoformat()}-{window.end.isoformat()}.csv"
    headers = {"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"}
    return StreamingResponse(rows, media_type="text/csv; charset=utf-8", headers=headers)


async def refused_scans(request: Request) -> JSONResponse:
    start, end = _date_param(request, "from"), _date_param(request, "to")
    report = await services_of(request).stats.refusals(principal_of(request), start, end)
    return JSONResponse(refusals_body(report))


routes = [
    Route("/qr/{qr_id}/stats", qr_stats, methods=["GET"]),
    Route("/qr/{qr_id}/scans.csv", scans_csv, methods=["GET"]),
    Route("/refused-scans", refused_scans, methods=["GET"]),
]
