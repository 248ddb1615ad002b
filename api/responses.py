"""The REST response bodies as declared models: they feed /openapi.json (never validation
of our own output at run time). A test sends real requests and validates every answer
against these, so the document cannot drift from `api.serialize`."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, Field


class LinkFields(BaseModel):
    """A dynamic code's link options (docs/links.md); null on static codes."""

    domain: str | None = Field(None, description="custom short domain; null: the base domain")
    paused: bool | None = None
    expires_at: str | None = Field(None, description="ISO 8601, UTC")
    max_scans: int | None = None
    has_password: bool | None = Field(None, description="the password itself is write-only")
    forward_query: bool | None = None
    utm: dict[str, str] | None = None
    rules: list[dict[str, Any]] | None = Field(None, description="ordered: {if, destination}")
    split: list[dict[str, Any]] | None = Field(None, description="{destination, weight}")


class QrGenerated(LinkFields):
    id: str
    type: Literal["static", "dynamic"]
    format: str = Field(description="png or svg")
    mime_type: str
    image_base64: str = Field(description="the image, base64-encoded")
    data: str = Field(description="what the image encodes (a dynamic code: its short URL)")
    destination: str | None = Field(description="dynamic codes: where a scan leads")
    short_code: str | None
    short_url: str | None
    size: int
    margin: int
    error_correction: Literal["L", "M", "Q", "H"]
    name: str | None
    created_at: str = Field(description="ISO 8601, UTC")


class QrMetadata(LinkFields):
    id: str
    type: Literal["static", "dynamic"]
    data: str
    destination: str | None
    short_code: str | None
    short_url: str | None
    format: str
    size: int
    margin: int
    error_correction: Literal["L", "M", "Q", "H"]
    style: dict[str, Any] | None = Field(description="the style it was generated with")
    name: str | None
    created_at: str
    updated_at: str


class ErrorDetail(BaseModel):
    code: str
    message: str


class BulkItemResult(BaseModel):
    index: int
    ok: bool
    qr: QrGenerated | None = Field(None, description="when ok")
    error: ErrorDetail | None = Field(None, description="when not ok")


class BulkResult(BaseModel):
    results: list[BulkItemResult]
    succeeded: int
    failed: int


class StatsWindow(BaseModel):
    start: date = Field(alias="from")
    end: date = Field(alias="to")


class DayCount(BaseModel):
    date: date
    scans: int
    unique_scans: int


class KeyCount(BaseModel):
    key: str
    scans: int


class CityCount(BaseModel):
    key: str
    country: str
    scans: int


class HourCount(BaseModel):
    hour: int = Field(description="local hour 0..23 in `tz`")
    scans: int


class WeekdayCount(BaseModel):
    day: Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    scans: int


class QrStats(BaseModel):
    qr_id: str
    retention_days: int
    window: StatsWindow
    total_scans: int
    unique_scans: int
    repeat_scans: int
    by_day: list[DayCount]
    by_country: list[KeyCount]
    by_city: list[CityCount]
    by_device: list[KeyCount]
    by_browser: list[KeyCount]
    by_os: list[KeyCount]
    bot_scans: int = Field(description="redirects of bots and link previews (left out above)")
    by_referrer: list[KeyCount] = Field(description='referrer host; "direct" when none')
    by_language: list[KeyCount] = Field(description="preferred language tag")
    tz: str = Field(description="the time zone of by_hour and by_weekday")
    by_hour: list[HourCount] = Field(description="24 buckets")
    by_weekday: list[WeekdayCount] = Field(description="7 buckets, Monday first")
    by_target: list[KeyCount] = Field(description="default | rule:N | split:N")
    by_outcome: list[KeyCount] = Field(description="redirected | password_page | gone")


class DateCount(BaseModel):
    date: date
    scans: int


class DomainRefusals(BaseModel):
    domain: str | None = Field(description="null: the redirect base URL's own domain")
    refused_scans: int
    by_day: list[DateCount]
    by_reason: list[KeyCount] = Field(
        description="deleted | paused | expired | exhausted | unknown"
    )
    by_code: list[KeyCount] = Field(description="the 20 most refused short codes")


class RefusedScans(BaseModel):
    retention_days: int
    window: StatsWindow
    domains: list[DomainRefusals]


class Verification(BaseModel):
    method: Literal["http"]
    url: str = Field(description="must answer this installation's proof over plain HTTP")


class Domain(BaseModel):
    id: str
    hostname: str
    verified: bool
    verified_at: str | None
    created_at: str
    verification: Verification


class DomainList(BaseModel):
    domains: list[Domain]


class EndpointCreated(BaseModel):
    id: str
    url: str
    description: str | None
    secret: str = Field(description="whsec_…: shown here once, never again")
    created_at: str


class Endpoint(BaseModel):
    id: str
    url: str
    description: str | None
    created_at: str
    enabled: bool
    disabled: bool
    disabled_at: str | None
    disabled_reason: str | None = Field(description="why it was switched off, when it is")
    failing_since: str | None = Field(description="start of the current run of failures")


class EndpointList(BaseModel):
    endpoints: list[Endpoint]


class Readiness(BaseModel):
    status: Literal["ready", "unavailable"]
    checks: dict[str, str] = Field(description='each configured store: "ok" or why not')


RESPONSES: tuple[type[BaseModel], ...] = (
    QrGenerated,
    QrMetadata,
    BulkResult,
    QrStats,
    RefusedScans,
    Domain,
    DomainList,
    EndpointCreated,
    Endpoint,
    EndpointList,
    Readiness,
)
