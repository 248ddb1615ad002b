"""Which domain a request came in on, from its Host header.

The redirect base URL's own host is the default domain (""). On a loopback base URL every
loopback name counts as it (a developer's `localhost` and `127.0.0.1` are one machine); a
request without a Host (HTTP/1.0) is on the default domain too. Any other host is returned
as a custom domain name, which the redirector then looks up among the verified domains:
an unknown one is a 404.
"""

from __future__ import annotations

import functools
from urllib.parse import urlsplit

_LOOPBACK = frozenset({"localhost", "127.0.0.1", "::1"})


class HostRouter:
    def __init__(self, base_url: str) -> None:
        base = (urlsplit(base_url).hostname or "").lower()
        self._defaults = _LOOPBACK | {base} if base in _LOOPBACK else frozenset({base})
        self.domain_of = functools.lru_cache(maxsize=1024)(self._domain_of)

    def _domain_of(self, host: str) -> str:
        """ "" for the default domain, else the normalized hostname of the request."""
        name = hostname(host)
        return "" if not name or name in self._defaults else name


def hostname(host: str) -> str:
    """ "Go.Brand.Example:8080" -> "go.brand.example"; "[::1]:80" -> "::1"."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1:].partition("]")[0]
    name, _, _ = host.partition(":") if host.count(":") == 1 else (host, "", "")
    return name.rstrip(".")
