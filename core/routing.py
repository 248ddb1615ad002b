"""The redirect decision, pure: a link's policy and the facts of one request in, an outcome out.

Order (see docs/links.md): a deleted, paused or expired link is gone; a password-protected
one shows its form until the request carries the right password; then the first rule whose
every condition matches picks the destination, else the split picks a variant (sticky per
visitor), else the link's own destination serves. UTM parameters are applied when the policy
is compiled, the scan's query string (forward_query) per request. Whether a `max_scans`
link still has room is the caller's to ask (it needs a shared counter) once this says
"redirected".

Facts are read lazily through `Visit`: a plain link, or rules that never mention the
country, never pay for a GeoIP lookup.
"""

from __future__ import annotations

import functools
import operator
import zlib
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit
from zoneinfo import ZoneInfo

REDIRECTED = "redirected"
PASSWORD_PAGE = "password_page"
GONE = "gone"
NOT_FOUND = "not_found"  # a scan of an unknown code on a verified domain (an orphan)

DEFAULT_TARGET = "default"
GONE_REASONS = ("deleted", "paused", "expired", "exhausted")

DEVICES = ("mobile", "tablet", "desktop", "bot", "unknown")
OS_KEYS = ("android", "ios", "windows", "macos", "linux", "chromeos", "other")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
UTM_KEYS = ("source", "medium", "campaign", "term", "content")

_OS_FAMILIES = {
    "android": "android",
    "ios": "ios",
    "ipados": "ios",
    "windows": "windows",
    "mac os x": "macos",
    "macos": "macos",
    "linux": "linux",
    "ubuntu": "linux",
    "fedora": "linux",
    "debian": "linux",
    "chrome os": "chromeos",
    "chromeos": "chromeos",
}


def os_key(family: str) -> str:
    """The rule vocabulary's name for a user-agent OS family ("Mac OS X" -> "macos")."""
    return _OS_FAMILIES.get(family.lower(), "other")


@functools.lru_cache(maxsize=4096)
def primary_language(header: str) -> str:
    """The visitor's most preferred language tag from Accept-Language, normalized ("de-AT").
    Cached: a few headers make most requests."""
    best, best_q = "", 0.0
    for part in header[:512].split(","):
        tag, _, params = part.strip().partition(";")
        tag = tag.strip()
        if not tag or tag == "*":
            continue
        quality = _quality(params)
        if quality > best_q:
            best, best_q = tag, quality
    return normalize_language(best) if best else ""


def _quality(params: str) -> float:
    for param in params.split(";"):
        name, _, value = param.strip().partition("=")
        if name.strip().lower() == "q":
            try:
                return max(0.0, min(1.0, float(value)))
            except ValueError:
                return 0.0
    return 1.0


def normalize_language(tag: str) -> str:
    """BCP 47 casing: language lower, region upper, script title ("zh-hant-tw" -> "zh-Hant-TW")."""
    parts = tag.replace("_", "-").split("-")
    out = [parts[0].lower()]
    for part in parts[1:]:
        if len(part) == 2 and part.isalpha():
            out.append(part.upper())
        elif len(part) == 4 and part.isalpha():
            out.append(part.title())
        else:
            out.append(part.lower())
    return "-".join(out)[:35]


class Visit(Protocol):
    """What a rule may ask about one request; implementations compute each fact on demand.

    `key` identifies the request's facts but the time: two visits with equal keys have equal
    visitor, country, device, OS and language (a router may cache by it)."""

    @property
    def key(self) -> Hashable: ...
    @property
    def now(self) -> float: ...
    @property
    def visitor(self) -> str: ...
    @property
    def query(self) -> str: ...
    @property
    def country(self) -> str: ...
    @property
    def device(self) -> str: ...
    @property
    def os(self) -> str: ...
    @property
    def language(self) -> str: ...


@dataclass(frozen=True, slots=True)
class TimeWindow:
    start: int  # minute of the local day, inclusive
    stop: int  # exclusive; stop <= start wraps over midnight
    days: frozenset[int]  # local weekdays, 0 = Monday
    zone: ZoneInfo

    def contains(self, now: float) -> bool:
        local = datetime.fromtimestamp(now, self.zone)
        if local.weekday() not in self.days:
            return False
        minute = local.hour * 60 + local.minute
        if self.start < self.stop:
            return self.start <= minute < self.stop
        return minute >= self.start or minute < self.stop


@dataclass(frozen=True, slots=True)
class Rule:
    location: str  # the destination with the link's UTM parameters applied
    # Conditions left out (None) match everything.
    countries: frozenset[str] | None = None
    devices: frozenset[str] | None = None
    systems: frozenset[str] | None = None
    languages: tuple[str, ...] | None = None  # lower case; "de" matches "de" and "de-*"
    window: TimeWindow | None = None

    def matches(self, visit: Visit) -> bool:
        if self.countries is not None and visit.country not in self.countries:
            return False
        if self.devices is not None and visit.device not in self.devices:
            return False
        if self.systems is not None and visit.os not in self.systems:
            return False
        if self.languages is not None and not _language_matches(self.languages, visit.language):
            return False
        return self.window is None or self.window.contains(visit.now)

    def needs(self) -> tuple[str, ...]:
        """The `Visit` facts this rule reads ("now" for a time window)."""
        asked = (
            ("country", self.countries), ("device", self.devices), ("os", self.systems),
            ("language", self.languages), ("now", self.window),
        )  # fmt: skip
        return tuple(name for name, condition in asked if condition is not None)


def _language_matches(wanted: tuple[str, ...], language: str) -> bool:
    spoken = language.lower()
    return any(spoken == tag or spoken.startswith(tag + "-") for tag in wanted)


@dataclass(frozen=True, slots=True)
class Variant:
    location: str
    weight: int


@dataclass(frozen=True, slots=True)
class Decision:
    outcome: str  # redirected | password_page | gone
    target: str  # default | rule:N | split:N; for gone, the reason; "" for the password page
    location: str = ""


_GONE = {reason: Decision(GONE, reason) for reason in GONE_REASONS}
_PASSWORD = Decision(PASSWORD_PAGE, "")
_MAX_PROFILES = 512  # per policy; cleared when full (a minute's worth of time rules renews)


@dataclass(frozen=True)
class LinkPolicy:
    """Everything about a link beyond its destination, compiled for the redirector.

    Which rule matches depends only on the facts the rules read, and a time window only on
    the minute (time zones are whole minutes apart): the answer is kept per such profile, so
    a link with many rules costs a few cached lookups per scan, not a walk through them all.
    """

    location: str  # the destination with UTM parameters applied
    deleted: bool = False
    paused: bool = False
    expires_at: float | None = None  # epoch seconds
    max_scans: int | None = None
    password_hash: str | None = field(default=None, repr=False)
    forward_query: bool = False
    rules: tuple[Rule, ...] = ()
    split: tuple[Variant, ...] = ()
    split_total: int = 0
    _routes: dict[object, int] = field(default_factory=dict, compare=False, repr=False)
    _profile: Callable[[Visit], object] | None = field(default=None, compare=False, repr=False)
    _targets: tuple[tuple[str, ...], tuple[str, ...]] = field(
        default=((), ()), compare=False, repr=False
    )
    _timed: bool = field(default=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        names = (
            tuple(f"rule:{n}" for n in range(len(self.rules))),
            tuple(f"split:{n}" for n in range(len(self.split))),
        )
        object.__setattr__(self, "_targets", names)
        needs = sorted({name for rule in self.rules for name in rule.needs()})
        object.__setattr__(self, "_timed", "now" in needs)
        facts = [name for name in needs if name != "now"]
        read = operator.attrgetter(*facts) if facts else None
        if "now" in needs:
            object.__setattr__(
                self, "_profile", lambda v: (read(v) if read else None, int(v.now // 60))
            )
        elif read is not None:
            object.__setattr__(self, "_profile", read)

    @property
    def timed(self) -> bool:
        """Some rule reads the clock: a route is good for its minute only."""
        return self._timed

    def refusal(self, now: float) -> str | None:
        if self.deleted:
            return "deleted"
        if self.paused:
            return "paused"
        if self.expires_at is not None and now >= self.expires_at:
            return "expired"
        return None

    def route(self, visit: Visit) -> tuple[str, str]:
        """(target, location) for a request that may be redirected."""
        if self.rules:
            index = self._matching_rule(visit)
            if index >= 0:
                return self._targets[0][index], self.rules[index].location
        if self.split:
            return self._variant(visit)
        return DEFAULT_TARGET, self.location

    def _matching_rule(self, visit: Visit) -> int:
        if self._profile is None:  # rules that read nothing: the answer never changes
            profile: object = None
        else:
            profile = self._profile(visit)
        found = self._routes.get(profile)
        if found is None:
            found = next((i for i, rule in enumerate(self.rules) if rule.matches(visit)), -1)
            if len(self._routes) >= _MAX_PROFILES:
                self._routes.clear()
            self._routes[profile] = found
        return found

    def _variant(self, visit: Visit) -> tuple[str, str]:
        # crc32 of the visitor is stable across processes and restarts (hash() is not).
        point = zlib.crc32(visit.visitor.encode()) % self.split_total
        for index, variant in enumerate(self.split):
            point -= variant.weight
            if point < 0:
                return self._targets[1][index], variant.location
        return self._targets[1][-1], self.split[-1].location


Router = Callable[["LinkPolicy", Visit], Decision]


def route(policy: LinkPolicy, visit: Visit) -> Decision:
    """Where a request that may be redirected goes (a rule, a variant, the destination)."""
    target, location = policy.route(visit)
    return Decision(REDIRECTED, target, location)


def decide(
    policy: LinkPolicy, visit: Visit, unlocked: bool = False, router: Router = route
) -> Decision:
    """`router` may be a cache in front of `route`: for one visitor and request profile its
    answer only changes with the policy or the minute (see LinkPolicy)."""
    reason = policy.refusal(visit.now)
    if reason is not None:
        return _GONE[reason]
    if policy.password_hash is not None and not unlocked:
        return _PASSWORD
    routed = router(policy, visit)
    if policy.forward_query and visit.query:
        query = parse_qsl(visit.query, keep_blank_values=True)
        return Decision(REDIRECTED, routed.target, merge_query(routed.location, query))
    return routed


def merge_query(url: str, params: Sequence[tuple[str, str]]) -> str:
    """`url` with `params` set: a name already in the URL takes the new value(s)."""
    if not params:
        return url
    parts = urlsplit(url)
    names = {name for name, _ in params}
    kept = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in names]
    return urlunsplit(parts._replace(query=urlencode([*kept, *params])))


def utm_params(utm: Mapping[str, str] | None) -> list[tuple[str, str]]:
    return [(f"utm_{key}", utm[key]) for key in UTM_KEYS if utm and utm.get(key)]


def compile_policy(
    destination: str,
    *,
    deleted: bool = False,
    paused: bool = False,
    expires_at: float | None = None,
    max_scans: int | None = None,
    password_hash: str | None = None,
    forward_query: bool = False,
    utm: Mapping[str, str] | None = None,
    rules: Sequence[Mapping[str, object]] | None = None,
    split: Sequence[Mapping[str, object]] | None = None,
) -> LinkPolicy | None:
    """The policy of a stored link (options as normalized by `core.link_options`), or None
    for a plain link, which the redirector serves without asking anything of the request."""
    tags = utm_params(utm)
    variants = tuple(
        Variant(merge_query(str(v["destination"]), tags), _int(v["weight"])) for v in split or ()
    )
    policy = LinkPolicy(
        location=merge_query(destination, tags),
        deleted=deleted,
        paused=paused,
        expires_at=expires_at,
        max_scans=max_scans,
        password_hash=password_hash,
        forward_query=forward_query,
        rules=tuple(compile_rule(rule, tags) for rule in rules or ()),
        split=variants,
        split_total=sum(variant.weight for variant in variants),
    )
    return None if policy == LinkPolicy(location=destination) else policy


def compile_rule(rule: Mapping[str, object], tags: Sequence[tuple[str, str]]) -> Rule:
    condition = rule.get("if")
    when: Mapping[str, object] = condition if isinstance(condition, Mapping) else {}
    languages = _strings(when.get("language"))
    time = when.get("time")
    return Rule(
        location=merge_query(str(rule["destination"]), tags),
        countries=_set(when.get("country")),
        devices=_set(when.get("device")),
        systems=_set(when.get("os")),
        languages=tuple(tag.lower() for tag in languages) if languages is not None else None,
        window=compile_window(time) if isinstance(time, Mapping) else None,
    )


def compile_window(time: Mapping[str, object]) -> TimeWindow:
    days = _strings(time.get("days")) or list(WEEKDAYS)
    return TimeWindow(
        start=minute_of_day(str(time.get("from") or "00:00")),
        stop=minute_of_day(str(time.get("to") or "24:00")),
        days=frozenset(WEEKDAYS.index(day) for day in days),
        zone=ZoneInfo(str(time.get("tz") or "UTC")),
    )


def minute_of_day(text: str) -> int:
    """ "08:30" -> 510; "24:00" -> 1440 (the end of the day). Raises ValueError otherwise."""
    hours, sep, minutes = text.partition(":")
    if not (sep and len(hours) == 2 and len(minutes) == 2 and (hours + minutes).isdigit()):
        raise ValueError(f"{text!r} is not a time as HH:MM")
    value = int(hours) * 60 + int(minutes)
    if int(minutes) > 59 or value > 1440:
        raise ValueError(f"{text!r} is not a time between 00:00 and 24:00")
    return value


def _strings(value: object) -> list[str] | None:
    return [str(item) for item in value] if isinstance(value, list) else None


def _set(value: object) -> frozenset[str] | None:
    items = _strings(value)
    return frozenset(items) if items is not None else None


def _int(value: object) -> int:
    return int(value) if isinstance(value, int | str) else 0
