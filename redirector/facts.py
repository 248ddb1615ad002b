"""The facts a link's rules may ask about one request, looked up only when asked.

A plain link never builds a `RequestVisit`; a link whose rules only test the device never
touches GeoIP. Each lookup is cached by its input (the client IP, the User-Agent, the
Accept-Language header), so repeated visitors cost a dictionary hit.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Hashable
from typing import Protocol

from core.routing import os_key, primary_language

UNKNOWN = "unknown"


class _Agent(Protocol):
    @property
    def device(self) -> str: ...
    @property
    def os(self) -> str: ...


class Lookups:
    """Cached request-time enrichment, shared by every request of one redirector."""

    def __init__(
        self,
        locate: Callable[[str], tuple[str, str]],
        parse_agent: Callable[[str], _Agent],
        *,
        cache_size: int = 65_536,
    ) -> None:
        self.country = functools.lru_cache(maxsize=cache_size)(
            lambda ip: _safe(lambda: locate(ip)[0]) if ip else UNKNOWN
        )
        self.agent = functools.lru_cache(maxsize=4096)(
            lambda ua: _safe_pair(lambda: _device_and_os(parse_agent(ua)))
        )
        self.language = primary_language  # cached where it is defined


def _device_and_os(agent: _Agent) -> tuple[str, str]:
    return agent.device, os_key(agent.os)


def _safe(call: Callable[[], str]) -> str:
    try:
        return call() or UNKNOWN
    except Exception:  # a broken database or parser must not break a redirect
        return UNKNOWN


def _safe_pair(call: Callable[[], tuple[str, str]]) -> tuple[str, str]:
    try:
        return call()
    except Exception:
        return UNKNOWN, "other"


class RequestVisit:
    """`core.routing.Visit` for one request."""

    __slots__ = ("_agent", "_lookups", "key", "now", "query")

    def __init__(
        self,
        lookups: Lookups,
        link: Hashable,
        now: float,
        visitor: str,
        query: str,
        ip: str,
        user_agent: str,
        accept_language: str,
    ) -> None:
        self._lookups = lookups
        self.now, self.query = now, query
        # What the facts follow from, with the link (its key and version) for route caches.
        self.key: tuple[Hashable, str, str, str, str] = (
            link, visitor, ip, user_agent, accept_language,
        )  # fmt: skip
        self._agent: tuple[str, str] | None = None

    @property
    def visitor(self) -> str:
        return self.key[1]

    @property
    def _ip(self) -> str:
        return self.key[2]

    @property
    def _user_agent(self) -> str:
        return self.key[3]

    @property
    def _accept_language(self) -> str:
        return self.key[4]

    @property
    def country(self) -> str:
        return str(self._lookups.country(self._ip))

    @property
    def device(self) -> str:
        return self._parsed()[0]

    @property
    def os(self) -> str:
        return self._parsed()[1]

    @property
    def language(self) -> str:
        return str(self._lookups.language(self._accept_language))

    def _parsed(self) -> tuple[str, str]:
        if self._agent is None:
            self._agent = self._lookups.agent(self._user_agent)
        return self._agent
