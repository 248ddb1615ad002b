"""Who is scanning: the client IP (proxy-aware) and a stable, non-reversible visitor id.

The visitor is the id carried by our signed first-party cookie when it is valid, and
otherwise a keyed hash of client IP + user agent (which then becomes the cookie's id,
so the same device is recognised when its IP changes). The raw IP is only ever used
in memory: it is never part of the visitor id, a cookie, a log line or a stored row.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass

from itsdangerous import BadSignature, Signer
from itsdangerous.encoding import base64_encode, want_bytes

from core.config import IPNetwork, Settings

COOKIE_NAME = "qrmint_vid"
COOKIE_MAX_AGE = 365 * 24 * 3600
_HASH_HEX_CHARS = 32  # 128 bits: ample against collisions, half the cookie size


@dataclass(frozen=True)
class Visitor:
    id: str
    is_new_cookie: bool  # the response must set the cookie


def client_ip(
    peer: str | None, forwarded_for: Iterable[str], trusted: tuple[IPNetwork, ...]
) -> str:
    """The socket peer, or the right-most untrusted X-Forwarded-For hop behind trusted ones."""
    if not peer or not trusted or not _is_trusted(peer, trusted):
        return peer or ""
    hops = [hop.strip() for header in forwarded_for for hop in header.split(",")]
    nearest = peer
    for hop in reversed(hops):
        if _parse(hop) is None:
            break  # a garbled hop: nothing left of it can be believed
        if not _is_trusted(hop, trusted):
            return hop
        nearest = hop
    return nearest


def _parse(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _is_trusted(text: str, trusted: tuple[IPNetwork, ...]) -> bool:
    address = _parse(text)
    return address is not None and any(address in network for network in trusted)


class _Signer(Signer):
    """itsdangerous re-derives its key on every call; it is a hash of constants."""

    def __init__(self, secret_key: str, salt: str) -> None:
        super().__init__(secret_key, salt=salt)
        self._derived: dict[str | bytes | None, bytes] = {}

        self._mac = hmac.new(self.derive_key(), digestmod=self.digest_method)

    def derive_key(self, secret_key: str | bytes | None = None) -> bytes:
        key = self._derived.get(secret_key)
        if key is None:
            key = self._derived[secret_key] = super().derive_key(secret_key)
        return key

    def get_signature(self, value: str | bytes) -> bytes:
        mac = self._mac.copy()
        mac.update(want_bytes(value))
        return base64_encode(mac.digest())


class VisitorIdentifier:
    def __init__(self, settings: Settings) -> None:
        # Keyed once; each hash copies it (HMAC key set-up is the costly part).
        self._mac = hmac.new(settings.secret_key.encode(), digestmod=hashlib.sha256)
        self._signer = _Signer(settings.secret_key, salt="visitor")
        self._trusted = settings.trusted_proxies
        secure = "; Secure" if settings.redirect_base_url.startswith("https://") else ""
        self._attributes = f"; Max-Age={COOKIE_MAX_AGE}; Path=/; HttpOnly; SameSite=Lax{secure}"

    def client_ip(self, peer: str | None, forwarded_for: Iterable[str]) -> str:
        return client_ip(peer, forwarded_for, self._trusted)

    def identify(self, cookie: str | None, ip: str, user_agent: str) -> Visitor:
        if cookie:
            try:
                return Visitor(self._signer.unsign(cookie).decode(), is_new_cookie=False)
            except (BadSignature, UnicodeDecodeError):
                pass
        return Visitor(self.visitor_hash(ip, user_agent), is_new_cookie=True)

    def visitor_hash(self, ip: str, user_agent: str) -> str:
        digest = self._mac.copy()
        digest.update(f"{ip}\n{user_agent}".encode())
        return digest.hexdigest()[:_HASH_HEX_CHARS]

    def set_cookie_header(self, visitor: Visitor) -> str:
        return f"{COOKIE_NAME}={self._signer.sign(visitor.id).decode()}{self._attributes}"
