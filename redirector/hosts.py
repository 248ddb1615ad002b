"""Which domain a request came in on, from its Host header.

The redirect base URL's own host is the default domain (""), and so is any IP address or
`localhost` (a custom domain is always a name, and a proxy that forwards to the redirector
by address, or a health check, must not turn the base domain into a 404); a request
without a Host (HTTP/1.0) is on the default domain too. Any other host is returned as a
custom domain name, which the redirector then looks up among the verified domains: an
unknown one is a 404. A proxy in front must pass the visitor's Host on (docs/links.md).
"""

from __future__ import annotations

import functools
import ipaddress
from urllib.parse import urlsplit


class HostRouter:
    def __init__(self, base_url: str) -> None:
        self._base = (urlsplit(base_url).hostname or "").lower()
        self.domain_of = functools.lru_cache(maxsize=1024)(self._domain_of)

    def _domain_of(self, host: str) -> str:
        """The default domain as "", else the request's normalized hostname."""
        name = hostname(host)
        if not name or name == self._base or name == "localhost" or _is_address(name):
            return ""
        return name


def _is_address(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def hostname(host: str) -> str:
    """The name of a Host header: Go.Brand.Example:8080 -> go.brand.example, [::1]:80 -> ::1."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1:].partition("]")[0]
    name, _, _ = host.partition(":") if host.count(":") == 1 else (host, "", "")
    return name.rstrip(".")
