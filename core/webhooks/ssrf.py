"""Which webhook URLs may be called: https only, and never into the operator's own network.

A URL is checked at registration and again before every delivery attempt; the addresses
found by that check are the ones the sender connects to (see `core.webhooks.sender`),
so a DNS answer that changes between check and connect (rebinding) gains nothing.

Ports: 443, or 1024 to 65535. The well-known ports below 1024 belong to other services
(SSH, SMTP, DNS, LDAP, …): pointing webhooks at them only probes what listens there, and no
receiver needs one. Higher ports stay open because receivers do use them (8443, 9000, …);
with TLS first on the wire, such a port gets a handshake, never a request it could obey.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from core.errors import Invalid, invalid_field

MAX_URL_LENGTH = 2048
HTTPS_PORT = 443
MIN_PORT = 1024  # the well-known ports below this are refused, 443 excepted
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Awaitable[Sequence[str]]]

# Spelled out although `is_global` covers most: the refusal must not hinge on a Python version.
_BLOCKED = tuple(
    ipaddress.ip_network(net)
    for net in (
        "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16",
        "172.16.0.0/12", "192.0.0.0/24", "192.168.0.0/16", "198.18.0.0/15", "224.0.0.0/4",
        "240.0.0.0/4", "::/128", "::1/128", "fc00::/7", "fe80::/10", "ff00::/8",
    )
)  # fmt: skip
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
# inet_aton's lenient forms: 2130706433, 0177.0.0.1, 0x7f.1 all mean 127.0.0.1.
_LEGACY_NUMERIC = re.compile(r"^(0x[0-9a-f]*|[0-9]+)(\.(0x[0-9a-f]*|[0-9]+)){0,3}\.?$", re.I)


@dataclass(frozen=True)
class SafeTarget:
    """A checked URL and the addresses it may be connected to."""

    url: str
    host: str  # as in the URL, lower case, without brackets
    port: int
    addresses: tuple[str, ...]


def check_syntax(url: str) -> tuple[str, int]:
    """(host, port) of an acceptable https URL, else `unsafe_url`."""
    if len(url) > MAX_URL_LENGTH:
        raise _unsafe(f"the URL is longer than {MAX_URL_LENGTH} characters")
    if any(ch.isspace() or ord(ch) < 0x20 for ch in url):
        raise _unsafe("the URL contains whitespace or control characters")
    try:
        parts = urlsplit(url)
        port = HTTPS_PORT if parts.port is None else parts.port
    except ValueError:
        raise _unsafe("the URL is malformed") from None
    if port < MIN_PORT and port != HTTPS_PORT:
        raise _unsafe(f"port {port} is refused; use 443 or a port from {MIN_PORT} to 65535")
    if parts.scheme.lower() != "https":
        raise _unsafe("webhook URLs must use https")
    if parts.username is not None or parts.password is not None:
        raise _unsafe("webhook URLs must not contain credentials")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise _unsafe("the URL has no host")
    try:
        host = host.encode("idna").decode("ascii") if not host.isascii() else host
    except UnicodeError:
        raise _unsafe("the URL's host name is not valid") from None
    if _LEGACY_NUMERIC.match(host) and not _is_dotted_quad(host):
        raise _unsafe("numeric hosts must be written as a dotted-quad address")
    return host, port


async def check_url(
    url: str, *, allow_private: bool, resolver: Resolver | None = None
) -> SafeTarget:
    """Check syntax, resolve the host, and refuse if ANY address is not public."""
    host, port = check_syntax(url)
    addresses = await _addresses(host, port, resolver or system_resolver)
    if not allow_private:
        for address in addresses:
            if is_forbidden(address):
                raise _unsafe("the URL resolves to a loopback, private or reserved address")
    return SafeTarget(url=url, host=host, port=port, addresses=tuple(map(str, addresses)))


def is_forbidden(address: IPAddress) -> bool:
    if isinstance(address, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            return is_forbidden(embedded)
    if any(address in net for net in _BLOCKED if net.version == address.version):
        return True
    return (
        not address.is_global
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
    )


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    # IPv4-mapped, 6to4 and NAT64 addresses reach the IPv4 address they carry.
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


async def system_resolver(host: str, port: int) -> list[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


async def _addresses(host: str, port: int, resolver: Resolver) -> list[IPAddress]:
    literal = _literal(host)
    if literal is not None:
        return [literal]
    try:
        answers = await resolver(host, port)
    except (OSError, UnicodeError):
        raise _unsafe("the URL's host cannot be resolved") from None
    addresses = [a for a in (_literal(answer) for answer in answers) if a is not None]
    if not addresses:
        raise _unsafe("the URL's host cannot be resolved")
    return addresses


def _literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return None


def _is_dotted_quad(host: str) -> bool:
    parts = host.split(".")
    return len(parts) == 4 and all(p.isdigit() and str(int(p)) == p for p in parts)


def _unsafe(message: str) -> Invalid:
    return invalid_field("url", message, code="unsafe_url")
