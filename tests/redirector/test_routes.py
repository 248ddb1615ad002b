"""The redirector's cache of route answers: the same answer as the rules, never a stale one."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from core.routing import compile_policy, decide, route
from redirector.routes import RouteCache

NOON = 1_795_000_000.0 - 1_795_000_000.0 % 3600  # some whole hour, UTC


@dataclass
class Visit:
    visitor: str
    country: str = "DE"
    now: float = NOON
    query: str = ""
    device: str = "mobile"
    os: str = "ios"
    language: str = "de"

    @property
    def key(self) -> Any:
        return ("link", 1), self.visitor, self.country


def test_the_cache_answers_as_the_rules_do() -> None:
    policy = compile_policy(
        "https://d.example/",
        rules=[{"if": {"country": ["US"]}, "destination": "https://us.example/"}],
        split=[{"destination": f"https://v{n}.example/", "weight": 1} for n in range(3)],
    )
    assert policy is not None
    cache = RouteCache(max_entries=8)
    visits = [Visit(f"v{n}", country) for n in range(20) for country in ("DE", "US")]
    for _ in range(2):  # cold, then (partly, the cache is small) warm
        for visit in visits:
            assert decide(policy, visit, router=cache) == route(policy, visit)


def test_time_rules_are_cached_for_their_minute_only() -> None:
    window = {"from": "12:00", "to": "12:01", "tz": "UTC"}
    policy = compile_policy(
        "https://d.example/", rules=[{"if": {"time": window}, "destination": "https://t.example/"}]
    )
    assert policy is not None
    cache = RouteCache()
    hour = NOON - NOON % 86400 + 12 * 3600  # 12:00 UTC that day
    targets = [decide(policy, Visit("v", now=hour + s), router=cache).target for s in (0, 59, 60)]
    assert targets == ["rule:0", "rule:0", "default"]
