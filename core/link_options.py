"""What the link options mean: values checked and normalized into the stored columns.

Input comes from `core.link_input` (structure already checked). The result maps QrCode
columns to their new values; the rules and split are stored as the normalized JSON that
`core.routing.compile_policy` reads. Tier limits (tiers.toml) apply when a link is written:
a feature outside the tier is 403 `tier_required`, more rules or variants than the tier
allows is 422 on that field.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import anyio

from core.destinations import check_destination, storable_text_problem
from core.errors import NotInTier, invalid_field
from core.passwords import MAX_LENGTH, MIN_LENGTH, hash_password
from core.routing import minute_of_day, normalize_language
from core.tiers import Tier

MAX_UTM_VALUE = 200
MAX_LIST = 300  # countries or languages in one condition
_COUNTRY = re.compile(r"^[A-Za-z]{2}$")
_LANGUAGE = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$")


async def link_columns(changes: Mapping[str, Any], tier: Tier) -> dict[str, Any]:
    """QrCode column -> new value for every option in `changes` (field -> JSON value)."""
    columns: dict[str, Any] = {}
    for name, value in changes.items():
        if name == "password":
            columns["password_hash"] = await _password(value, tier)
        elif name == "expires_at":
            columns["expires_at"] = _instant(value)
        elif name == "utm":
            columns["utm"] = _utm(value)
        elif name == "rules":
            columns["rules"] = _rules(value, tier)
        elif name == "split":
            columns["split"] = _split(value, tier)
        else:  # paused, forward_query, max_scans: their types say it all
            columns[name] = value
    return columns


async def _password(value: str | None, tier: Tier) -> str | None:
    if value is None:
        return None
    if not tier.passwords:
        raise _not_in_tier("Password-protected links", tier, "pro")
    if not MIN_LENGTH <= len(value) <= MAX_LENGTH:
        raise invalid_field(
            "password", f"The password must have {MIN_LENGTH} to {MAX_LENGTH} characters."
        )
    _text(value, "password", "The password")
    # A key derivation costs tens of milliseconds of CPU: off the event loop.
    return await anyio.to_thread.run_sync(hash_password, value)


def _instant(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise invalid_field(
            "expires_at",
            f"expires_at is {value[:40]!r}; expected an ISO 8601 instant with its offset, "
            "such as 2026-12-31T23:59:00Z.",
        )
    return moment.astimezone(UTC)


def _utm(value: Mapping[str, str] | None) -> dict[str, str] | None:
    if not value:
        return None
    for key, text in value.items():
        field = f"utm.{key}"
        if len(text) > MAX_UTM_VALUE:
            raise invalid_field(field, f"{field} has {len(text)} characters; at most 200.")
        _text(text, field, field)
    return dict(value) or None


def _rules(value: list[dict[str, Any]] | None, tier: Tier) -> list[dict[str, Any]] | None:
    if not value:
        return None
    if tier.max_rules == 0:
        raise _not_in_tier("Redirect rules", tier, "ultra")
    if len(value) > tier.max_rules:
        message = f"{len(value)} rules sent; the {tier.name} tier allows {tier.max_rules}."
        raise invalid_field("rules", message)
    return [_rule(rule, f"rules.{index}") for index, rule in enumerate(value)]


def _rule(rule: Mapping[str, Any], path: str) -> dict[str, Any]:
    destination = check_destination(rule["destination"], f"{path}.destination")
    when = dict(rule["if"])
    if not when:
        raise invalid_field(f"{path}.if", "A rule needs at least one condition.")
    for name, items in when.items():
        if isinstance(items, list) and not 1 <= len(items) <= MAX_LIST:
            raise invalid_field(f"{path}.if.{name}", f"Expected 1 to {MAX_LIST} values.")
    if "country" in when:
        when["country"] = [_country(c, f"{path}.if.country.{i}") for i, c in _each(when["country"])]
    if "language" in when:
        when["language"] = [_tag(t, f"{path}.if.language.{i}") for i, t in _each(when["language"])]
    for name in ("device", "os"):
        if name in when:
            when[name] = sorted(set(when[name]))
    if "time" in when:
        when["time"] = _window(when["time"], f"{path}.if.time")
    return {"if": when, "destination": destination}


def _each(values: list[str]) -> list[tuple[int, str]]:
    return list(enumerate(values))


def _country(code: str, field: str) -> str:
    if not _COUNTRY.match(code):
        raise invalid_field(field, f"{code[:20]!r} is not an ISO 3166-1 alpha-2 code such as DE.")
    return code.upper()


def _tag(tag: str, field: str) -> str:
    if not _LANGUAGE.match(tag):
        raise invalid_field(field, f"{tag[:40]!r} is not a language tag such as de or en-US.")
    return normalize_language(tag)


def _window(window: Mapping[str, Any], path: str) -> dict[str, Any]:
    normalized: dict[str, Any] = {"tz": window.get("tz") or "UTC"}
    for name in ("from", "to"):
        if window.get(name) is not None:
            try:
                minute_of_day(window[name])
            except ValueError as exc:
                raise invalid_field(f"{path}.{name}", f"{exc}.") from None
            normalized[name] = window[name]
    if window.get("days") is not None:
        if not window["days"]:
            raise invalid_field(f"{path}.days", "Expected at least one day.")
        order = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
        normalized["days"] = sorted(set(window["days"]), key=order.index)
    try:
        ZoneInfo(normalized["tz"])
    except (ZoneInfoNotFoundError, ValueError):
        message = f"{normalized['tz'][:60]!r} is not an IANA time zone such as Europe/Berlin."
        raise invalid_field(f"{path}.tz", message) from None
    return normalized


def _split(value: list[dict[str, Any]] | None, tier: Tier) -> list[dict[str, Any]] | None:
    if not value:
        return None
    if tier.max_split_variants == 0:
        raise _not_in_tier("A/B splits", tier, "ultra")
    if not 2 <= len(value) <= tier.max_split_variants:
        message = (
            f"{len(value)} variants sent; a split has 2 to {tier.max_split_variants} "
            f"on the {tier.name} tier."
        )
        raise invalid_field("split", message)
    return [
        {
            "destination": check_destination(v["destination"], f"split.{i}.destination"),
            "weight": v["weight"],
        }
        for i, v in enumerate(value)
    ]


def _text(value: str, field: str, label: str) -> None:
    problem = storable_text_problem(value)
    if problem:
        raise invalid_field(field, f"{label} {problem}.")


def _not_in_tier(feature: str, tier: Tier, lowest: str) -> NotInTier:
    return NotInTier(
        f"{feature} are not part of the {tier.name} tier; they need {lowest} or above.",
        code="tier_required",
    )
