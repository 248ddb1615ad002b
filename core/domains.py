"""Custom short domains: add, list, verify, delete (docs/links.md).

A domain is added unverified; `verify` fetches the proof through it (`core.domain_proof`)
and only then may codes be created on it and does the redirector route its Host. A hostname
serves at most one account (the verified name is unique). The tier's `max_domains` is held
with slots, as for webhook endpoints, so concurrent additions never exceed it. A domain with
live codes cannot be deleted (409 `domain_in_use`): printed codes would break.
"""

from __future__ import annotations

import ipaddress
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

from tortoise.exceptions import IntegrityError

from core.accounts import Principal
from core.config import Settings
from core.domain_proof import DomainVerifier, proof_url
from core.errors import Conflict, NotFound, NotInTier, invalid_field
from core.link_entry import cache_key
from core.models import Domain, QrCode, is_id, new_id
from core.qrcodes import LinkPublisher

MAX_HOSTNAME = 253
_LABEL = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")


@dataclass(frozen=True)
class DomainView:
    id: str
    hostname: str
    verified: bool
    verified_at: datetime | None
    created_at: datetime
    verification_url: str  # where the proof must be answered (plain HTTP, port 80)


class DomainService:
    def __init__(
        self, settings: Settings, links: LinkPublisher, verifier: DomainVerifier | None = None
    ) -> None:
        self._settings = settings
        self._links = links
        self._verifier = verifier or DomainVerifier(settings)

    async def add(self, principal: Principal, hostname: object) -> DomainView:
        tier = principal.tier
        if tier.max_domains == 0:
            raise NotInTier(
                f"Custom domains are not part of the {tier.name} tier; they need pro or above.",
                code="tier_required",
            )
        host = self._hostname(hostname)
        if await Domain.exists(account_id=principal.account_id, hostname=host):
            raise Conflict(f"{host} is already a domain of this account.", code="domain_exists")
        return _view(await _insert_in_free_slot(principal.account_id, tier.max_domains, host))

    async def list_all(self, principal: Principal) -> list[DomainView]:
        rows = await Domain.filter(account_id=principal.account_id).order_by("created_at", "id")
        return [_view(row) for row in rows]

    async def verify(self, principal: Principal, domain_id: str) -> DomainView:
        row = await _owned(principal, domain_id)
        if row.verified_hostname is not None:
            return _view(row)
        await self._verifier.verify(row.hostname, row.token)
        row.verified_hostname, row.verified_at = row.hostname, datetime.now(UTC)
        try:
            await row.save(update_fields=["verified_hostname", "verified_at"])
        except IntegrityError:
            raise Conflict(
                f"{row.hostname} is already verified by another account.", code="domain_taken"
            ) from None
        await self._links.publish_domain(row.hostname)
        return _view(row)

    async def delete(self, principal: Principal, domain_id: str) -> None:
        row = await _owned(principal, domain_id)
        codes = QrCode.filter(domain=row.hostname, account_id=principal.account_id)
        live = await codes.filter(deleted_at__isnull=True).count()
        if live:
            raise Conflict(
                f"{row.hostname} still has {live} QR code(s); delete them first "
                "(their printed links would stop working).",
                code="domain_in_use",
            )
        deleted = await codes.values_list("short_code", flat=True)
        await row.delete()
        if row.verified_hostname is not None:
            stale = [cache_key(row.hostname, str(code)) for code in deleted]
            await self._links.publish_domain(row.hostname, stale_links=stale)

    def _hostname(self, value: object) -> str:
        if not isinstance(value, str) or not value.strip():
            raise invalid_field("hostname", "Expected a hostname such as go.brand.example.")
        host = _normalized(value)
        if host == urlsplit(self._settings.redirect_base_url).hostname:
            raise invalid_field("hostname", f"{host} is this installation's own redirect host.")
        return host


def _normalized(value: str) -> str:
    host = value.strip().lower().rstrip(".")
    try:
        host = host.encode("idna").decode("ascii") if not host.isascii() else host
    except UnicodeError:
        raise invalid_field("hostname", "The hostname is not a valid name.") from None
    labels = host.split(".")
    valid = (
        len(host) <= MAX_HOSTNAME
        and len(labels) >= 2
        and all(_LABEL.match(label) for label in labels)
        and not labels[-1].isdigit()
    )
    if not valid or _is_address(host):
        raise invalid_field(
            "hostname",
            f"{value[:80]!r} is not a hostname such as go.brand.example (no scheme, port, "
            "path or IP address).",
        )
    return host


def _is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


async def _owned(principal: Principal, domain_id: str) -> Domain:
    row = None
    if is_id(domain_id, "dom"):
        row = await Domain.get_or_none(id=domain_id, account_id=principal.account_id)
    if row is None:
        raise NotFound(f"No domain with id {domain_id!r} in this account.")
    return row


async def _insert_in_free_slot(account_id: str, limit: int, hostname: str) -> Domain:
    # Each lost race means another addition took a slot, so `limit` rounds always settle.
    for _ in range(limit + 1):
        rows = await Domain.filter(account_id=account_id).only("id", "slot")
        used = {row.slot for row in rows}
        free = [slot for slot in range(limit) if slot not in used]
        if not free:
            break
        try:
            return await Domain.create(
                id=new_id("dom"),
                account_id=account_id,
                slot=free[0],
                hostname=hostname,
                token=secrets.token_urlsafe(24),
            )
        except IntegrityError:
            if await Domain.exists(account_id=account_id, hostname=hostname):
                raise Conflict(
                    f"{hostname} is already a domain of this account.", code="domain_exists"
                ) from None
            continue
    raise Conflict(
        f"An account of this tier can have at most {limit} domains.", code="domain_limit"
    )


def _view(row: Domain) -> DomainView:
    return DomainView(
        id=row.id,
        hostname=row.hostname,
        verified=row.verified_hostname is not None,
        verified_at=row.verified_at,
        created_at=row.created_at,
        verification_url=proof_url(row.hostname, row.token),
    )
