"""The pure redirect decision: refusals, passwords, rules in order, sticky splits, UTM, query."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest

from core.routing import (
    GONE,
    PASSWORD_PAGE,
    REDIRECTED,
    LinkPolicy,
    compile_policy,
    decide,
    merge_query,
    minute_of_day,
    normalize_language,
    os_key,
    primary_language,
)

# Wednesday 2026-11-25 10:30 UTC = 11:30 in Berlin, 05:30 in New York.
WEDNESDAY = datetime(2026, 11, 25, 10, 30, tzinfo=UTC).timestamp()


@dataclass
class Visit:
    now: float = WEDNESDAY
    visitor: str = "visitor-1"
    query: str = ""
    country: str = "DE"
    device: str = "mobile"
    os: str = "ios"
    language: str = "de-DE"

    @property
    def key(self) -> tuple[str, ...]:
        return (self.visitor, self.country, self.device, self.os, self.language)


def policy(destination: str = "https://d.example/", **options: Any) -> LinkPolicy:
    compiled = compile_policy(destination, **options)
    assert compiled is not None
    return compiled


def rule(destination: str, **when: Any) -> dict[str, Any]:
    return {"if": when, "destination": destination}


def test_a_plain_link_compiles_to_nothing() -> None:
    assert compile_policy("https://d.example/") is None
    assert compile_policy("https://d.example/", rules=[], split=None, utm={}) is None


@pytest.mark.parametrize(
    ("options", "reason"),
    [
        ({"deleted": True, "paused": True}, "deleted"),
        ({"paused": True, "expires_at": WEDNESDAY - 1}, "paused"),
        ({"expires_at": WEDNESDAY}, "expired"),
    ],
)
def test_refusals_come_first_in_order(options: dict[str, Any], reason: str) -> None:
    found = decide(policy(password_hash="x", **options), Visit())
    assert (found.outcome, found.target, found.location) == (GONE, reason, "")


def test_not_yet_expired_redirects() -> None:
    assert decide(policy(expires_at=WEDNESDAY + 1), Visit()).outcome == REDIRECTED


def test_a_password_shows_the_form_until_unlocked() -> None:
    protected = policy(password_hash="scrypt$...")
    assert decide(protected, Visit()).outcome == PASSWORD_PAGE
    unlocked = decide(protected, Visit(), unlocked=True)
    assert (unlocked.outcome, unlocked.target, unlocked.location) == (
        REDIRECTED, "default", "https://d.example/",
    )  # fmt: skip


def test_the_first_matching_rule_wins_and_every_condition_must_match() -> None:
    rules = [
        rule("https://r0.example/", country=["US"], device=["mobile"]),
        rule("https://r1.example/", country=["DE", "AT"], device=["desktop"]),
        rule("https://r2.example/", country=["DE"], os=["ios"]),
        rule("https://r3.example/", country=["DE"]),
    ]
    found = decide(policy(rules=rules), Visit())
    assert (found.target, found.location) == ("rule:2", "https://r2.example/")
    fallback = decide(policy(rules=rules), Visit(country="FR"))
    assert (fallback.target, fallback.location) == ("default", "https://d.example/")


@pytest.mark.parametrize(
    ("wanted", "spoken", "matches"),
    [
        (["de"], "de-DE", True),
        (["de"], "de", True),
        (["de-at"], "de-DE", False),
        (["en-us"], "en-US", True),
        (["d"], "de-DE", False),
        (["de"], "", False),
    ],
)
def test_language_tags_match_by_prefix(wanted: list[str], spoken: str, matches: bool) -> None:
    found = decide(
        policy(rules=[rule("https://l.example/", language=wanted)]), Visit(language=spoken)
    )
    assert (found.target == "rule:0") is matches


@pytest.mark.parametrize(
    ("window", "matches"),
    [
        ({"from": "08:00", "to": "18:00", "tz": "Europe/Berlin"}, True),  # 11:30 there
        ({"from": "08:00", "to": "18:00", "tz": "America/New_York"}, False),  # 05:30 there
        ({"from": "22:00", "to": "06:00", "tz": "America/New_York"}, True),  # overnight
        ({"from": "11:30", "to": "11:31", "tz": "Europe/Berlin"}, True),  # from is inclusive
        ({"from": "11:00", "to": "11:30", "tz": "Europe/Berlin"}, False),  # to is exclusive
        ({"days": ["wed"], "tz": "Europe/Berlin"}, True),
        ({"days": ["mon", "tue"], "tz": "Europe/Berlin"}, False),
        ({"days": ["tue"], "tz": "Pacific/Pago_Pago"}, True),  # still Tuesday there
        ({"from": "16:00", "to": "17:00", "tz": "Asia/Kolkata"}, True),  # 16:00 at +05:30
    ],
)
def test_time_windows_are_local(window: dict[str, Any], matches: bool) -> None:
    found = decide(policy(rules=[rule("https://t.example/", time=window)]), Visit())
    assert (found.target == "rule:0") is matches


def test_a_split_is_sticky_per_visitor_and_follows_the_weights() -> None:
    split = [
        {"destination": "https://a.example/", "weight": 70},
        {"destination": "https://b.example/", "weight": 20},
        {"destination": "https://c.example/", "weight": 10},
    ]
    compiled = policy(split=split)
    first = {n: decide(compiled, Visit(visitor=f"v{n}")).target for n in range(3000)}
    again = {n: decide(compiled, Visit(visitor=f"v{n}")).target for n in range(3000)}
    assert first == again
    shares = Counter(first.values())
    assert set(shares) == {"split:0", "split:1", "split:2"}
    assert 1900 < shares["split:0"] < 2300
    assert 450 < shares["split:1"] < 750


def test_rules_come_before_the_split() -> None:
    compiled = policy(
        rules=[rule("https://r.example/", device=["desktop"])],
        split=[{"destination": "https://a.example/", "weight": 1},
               {"destination": "https://b.example/", "weight": 1}],
    )  # fmt: skip
    assert decide(compiled, Visit(device="desktop")).target == "rule:0"
    assert decide(compiled, Visit()).target.startswith("split:")


def test_utm_goes_on_every_destination_and_the_scan_query_last() -> None:
    compiled = policy(
        "https://d.example/p?utm_source=old&x=1#top",
        utm={"source": "qr", "campaign": "fall sale"},
        forward_query=True,
        rules=[rule("https://r.example/", device=["desktop"])],
    )
    plain = decide(compiled, Visit())
    assert plain.location == "https://d.example/p?x=1&utm_source=qr&utm_campaign=fall+sale#top"
    ruled = decide(compiled, Visit(device="desktop", query="x=2&utm_campaign=poster&y="))
    assert ruled.location == "https://r.example/?utm_source=qr&x=2&utm_campaign=poster&y="


def test_the_scan_query_is_ignored_without_forward_query() -> None:
    assert decide(policy(paused=False, max_scans=3), Visit(query="a=1")).location == (
        "https://d.example/"
    )


def test_helpers() -> None:
    assert merge_query("https://e.example/?a=1", [("a", "2"), ("b", "")]) == (
        "https://e.example/?a=2&b="
    )
    assert primary_language("fr-CH, fr;q=0.9, en;q=0.8, *;q=0.5") == "fr-CH"
    assert primary_language("en;q=0.5, de-at;q=0.9") == "de-AT"
    assert primary_language("*") == primary_language("") == ""
    assert primary_language("xx;q=abc, en") == "en"
    assert normalize_language("zh-hant-tw") == "zh-Hant-TW"
    assert (os_key("Mac OS X"), os_key("iOS"), os_key("Ubuntu"), os_key("Symbian")) == (
        "macos", "ios", "linux", "other",
    )  # fmt: skip
    assert (minute_of_day("00:00"), minute_of_day("08:30"), minute_of_day("24:00")) == (
        0,
        510,
        1440,
    )
    for bad in ("8:30", "24:01", "12:60", "ab:cd", "1230"):
        with pytest.raises(ValueError):  # noqa: PT011
            minute_of_day(bad)


def test_a_policy_remembers_answers_per_profile_but_never_across_minutes() -> None:
    timed = policy(rules=[rule("https://t.example/", time={"from": "11:30", "to": "11:31",
                                                             "tz": "Europe/Berlin"})])  # fmt: skip
    assert timed.timed
    assert [decide(timed, Visit(now=WEDNESDAY + s)).target for s in (0, 30, 59, 60, 61)] == [
        "rule:0", "rule:0", "rule:0", "default", "default",
    ]  # fmt: skip
    by_country = policy(rules=[rule("https://de.example/", country=["DE"])])
    assert not by_country.timed
    answers = [decide(by_country, Visit(country=c)).target for c in ("DE", "US", "DE", "US")]
    assert answers == ["rule:0", "default", "rule:0", "default"]
