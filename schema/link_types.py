"""Dynamic link options and custom domains as GraphQL types, and their builders.

The options mirror the REST JSON (docs/links.md) in camelCase; a rule's condition object
is under `if` and a time window starts at `from`, as in REST.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry

from core.domains import DomainView


@strawberry.type(description="UTM parameters appended to every destination of the link.")
class Utm:
    source: str | None = None
    medium: str | None = None
    campaign: str | None = None
    term: str | None = None
    content: str | None = None


@strawberry.type(description="Local time of day (from inclusive, to exclusive) on some days.")
class TimeWindow:
    from_: str | None = strawberry.field(name="from", default=None)
    to: str | None = None
    days: list[str] | None = None
    tz: str = "UTC"


@strawberry.type(description="Every listed condition must match; a left-out one matches all.")
class RuleConditions:
    country: list[str] | None = None
    device: list[str] | None = None
    os: list[str] | None = None
    language: list[str] | None = None
    time: TimeWindow | None = None


@strawberry.type(description="The first rule whose conditions all match picks the destination.")
class LinkRule:
    if_: RuleConditions = strawberry.field(name="if")
    destination: str


@strawberry.type(description="An A/B variant; a visitor keeps the variant they first got.")
class SplitVariant:
    destination: str
    weight: int


@strawberry.type(description="A custom short domain; codes may use it once it is verified.")
class Domain:
    id: strawberry.ID
    hostname: str
    verified: bool
    verified_at: datetime | None
    created_at: datetime
    verification_url: str = strawberry.field(
        description="Must answer this installation's proof over plain HTTP (docs/links.md)."
    )


def utm(value: dict[str, str] | None) -> Utm | None:
    return Utm(**value) if value else None


def rules(value: list[dict[str, Any]]) -> list[LinkRule]:
    return [
        LinkRule(if_=_conditions(rule["if"]), destination=rule["destination"]) for rule in value
    ]


def split(value: list[dict[str, Any]]) -> list[SplitVariant]:
    return [SplitVariant(destination=v["destination"], weight=v["weight"]) for v in value]


def _conditions(when: dict[str, Any]) -> RuleConditions:
    time = when.get("time")
    window = None
    if time is not None:
        window = TimeWindow(
            from_=time.get("from"), to=time.get("to"), days=time.get("days"), tz=time["tz"]
        )
    return RuleConditions(
        country=when.get("country"),
        device=when.get("device"),
        os=when.get("os"),
        language=when.get("language"),
        time=window,
    )


def domain(view: DomainView) -> Domain:
    return Domain(
        id=strawberry.ID(view.id),
        hostname=view.hostname,
        verified=view.verified,
        verified_at=view.verified_at,
        created_at=view.created_at,
        verification_url=view.verification_url,
    )
