"""How a custom domain proves it reaches this qrmint: the HTTP check (docs/links.md).

Every redirector answers `GET /.well-known/qrmint-domain/<token>` on any Host with
HMAC-SHA256(QRMINT_SECRET_KEY, "qrmint-domain:<host>:<token>") in hex. The API asks for that
URL *through the domain itself* (`http://<hostname>/...`, resolved by DNS like any visitor
would) and compares: only a redirector of this installation, reached under that name, can
answer, so a match proves the name's DNS points here. The address is checked against the
same private-network rules as webhook URLs (`core.webhooks.ssrf`; QRMINT_WEBHOOK_ALLOW_PRIVATE
relaxes them for tests and on-prem), the connection goes to the checked address with the
hostname as Host, and redirects are not followed.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress

import httpx

from core.config import Settings
from core.errors import Invalid
from core.webhooks.ssrf import Resolver, is_forbidden, system_resolver

WELL_KNOWN_PREFIX = "/.well-known/qrmint-domain/"
MAX_ANSWER_BYTES = 1024
TIMEOUT_SECONDS = 5.0


def domain_proof(secret_key: str, hostname: str, token: str) -> str:
    message = f"qrmint-domain:{hostname}:{token}".encode()
    return hmac.new(secret_key.encode(), message, hashlib.sha256).hexdigest()


def proof_url(hostname: str, token: str, port: int = 80) -> str:
    authority = hostname if port == 80 else f"{hostname}:{port}"
    return f"http://{authority}{WELL_KNOWN_PREFIX}{token}"


class DomainVerifier:
    """Fetches the proof through the domain; `resolver` and `port` are for tests."""

    def __init__(
        self, settings: Settings, *, resolver: Resolver | None = None, port: int = 80
    ) -> None:
        self._secret = settings.secret_key
        self._allow_private = settings.webhook_allow_private
        self._resolver = resolver or system_resolver
        self._port = port

    async def verify(self, hostname: str, token: str) -> None:
        """Returns when the domain answers the proof; raises `domain_unverified` otherwise."""
        url = proof_url(hostname, token, self._port)
        address = await self._address(hostname, url)
        answer = await self._fetch(address, hostname, token, url)
        if not hmac.compare_digest(answer, domain_proof(self._secret, hostname, token)):
            raise _unverified(url, "it answered, but not with this installation's proof")

    async def _address(self, hostname: str, url: str) -> str:
        try:
            answers = await self._resolver(hostname, self._port)
        except (OSError, UnicodeError):
            answers = []
        addresses = []
        for answer in answers:
            try:
                addresses.append(ipaddress.ip_address(answer.split("%", 1)[0]))
            except ValueError:
                continue
        if not addresses:
            raise _unverified(url, "the hostname does not resolve")
        if not self._allow_private and any(is_forbidden(a) for a in addresses):
            raise _unverified(url, "it resolves to a loopback, private or reserved address")
        return str(addresses[0])

    async def _fetch(self, address: str, hostname: str, token: str, url: str) -> str:
        host = f"[{address}]" if ":" in address else address
        target = f"http://{host}:{self._port}{WELL_KNOWN_PREFIX}{token}"
        header = hostname if self._port == 80 else f"{hostname}:{self._port}"
        try:
            async with (
                httpx.AsyncClient(timeout=TIMEOUT_SECONDS, follow_redirects=False) as client,
                client.stream("GET", target, headers={"Host": header}) as response,
            ):
                if response.status_code != 200:
                    raise _unverified(url, f"it answered HTTP {response.status_code}")
                body = b""
                async for chunk in response.aiter_bytes():
                    body += chunk
                    if len(body) > MAX_ANSWER_BYTES:
                        raise _unverified(url, "its answer is too long to be a proof")
        except httpx.HTTPError as exc:
            raise _unverified(url, f"it could not be reached ({type(exc).__name__})") from None
        return body.decode("ascii", "replace").strip()


def _unverified(url: str, why: str) -> Invalid:
    return Invalid(
        f"The domain is not verified: {url} must answer with this installation's proof, "
        f"but {why}. Point the hostname's DNS at the redirector (see the domain's "
        "verification instructions) and try again.",
        code="domain_unverified",
    )
