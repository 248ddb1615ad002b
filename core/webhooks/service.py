"""Scan webhook endpoints as the API surfaces see them: register, list, enable or disable,
delete (docs/webhooks.md).

Registering and re-enabling need a tier with webhooks; listing, disabling and deleting work
for any tier, so an account that left mega can still see and remove its endpoints.
The endpoint limit is enforced by slots: each endpoint takes one of the tier's N slot numbers
and (account, slot) is unique, so concurrent registrations can never exceed N on SQLite or
Postgres alike; a registration that loses a race for a slot simply tries the next free one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from tortoise.exceptions import IntegrityError

from core.config import Settings
from core.destinations import storable_text_problem
from core.errors import Conflict, NotFound, NotInTier, invalid_field
from core.models import ScanEndpoint, is_id, new_id
from core.tiers import Tier
from core.webhooks.cache import shared_cache
from core.webhooks.health import MANUAL
from core.webhooks.secrets import encrypt_secret, new_secret
from core.webhooks.ssrf import Resolver, check_url

MAX_DESCRIPTION = 500


@dataclass(frozen=True)
class RegisteredEndpoint:
    """The answer to a registration: the only value that ever carries the secret."""

    id: str
    url: str
    description: str | None
    secret: str = field(repr=False)
    created_at: datetime


@dataclass(frozen=True)
class EndpointView:
    id: str
    url: str
    description: str | None
    created_at: datetime
    disabled: bool
    disabled_at: datetime | None
    disabled_reason: str | None  # "failing" (24 h of failures) or "manual"
    failing_since: datetime | None

    @property
    def enabled(self) -> bool:
        return not self.disabled


async def register_endpoint(
    settings: Settings,
    tier: Tier,
    account_id: str,
    url: str,
    description: str | None,
    *,
    resolver: Resolver | None = None,
) -> RegisteredEndpoint:
    require_webhooks(tier)
    if description is not None and len(description) > MAX_DESCRIPTION:
        message = f"description has {len(description)} characters; at most {MAX_DESCRIPTION}."
        raise invalid_field("description", message)
    problem = storable_text_problem(description) if description else None
    if problem:
        raise invalid_field("description", f"description {problem}.")
    await check_url(url, allow_private=settings.webhook_allow_private, resolver=resolver)
    secret = new_secret()
    ciphertext = encrypt_secret(settings.secret_key, secret)
    row = await _insert_in_free_slot(
        account_id, tier.max_webhook_endpoints, url, description, ciphertext
    )
    shared_cache.invalidate(account_id)
    return RegisteredEndpoint(row.id, row.url, row.description, secret, row.created_at)


async def list_endpoints(account_id: str) -> list[EndpointView]:
    rows = await ScanEndpoint.filter(account_id=account_id).order_by("created_at", "id")
    return [_view(row) for row in rows]


async def set_endpoint_enabled(
    tier: Tier, account_id: str, endpoint_id: str, enabled: bool
) -> EndpointView:
    """Enabling (needs webhooks in the tier) clears the failure history; disabling by hand
    also stops the events already queued for it."""
    if enabled:
        require_webhooks(tier)
    row = await _owned(account_id, endpoint_id)
    if enabled:
        values: dict[str, object] = {"disabled_at": None, "disabled_reason": None}
        values |= {"failing_since": None, "consecutive_failures": 0}
    elif row.disabled_at is None or row.disabled_reason != MANUAL:
        values = {"disabled_at": row.disabled_at or datetime.now(UTC), "disabled_reason": MANUAL}
    else:
        values = {}
    if values:
        await ScanEndpoint.filter(id=row.id).update(**values)
        shared_cache.invalidate(account_id)
    return _view(await ScanEndpoint.get(id=row.id))


async def delete_endpoint(account_id: str, endpoint_id: str) -> None:
    deleted = 0
    if is_id(endpoint_id, "wep"):
        deleted = await ScanEndpoint.filter(id=endpoint_id, account_id=account_id).delete()
    if not deleted:
        raise NotFound("No such scan endpoint.")
    shared_cache.invalidate(account_id)


async def _owned(account_id: str, endpoint_id: str) -> ScanEndpoint:
    row = None
    if is_id(endpoint_id, "wep"):
        row = await ScanEndpoint.get_or_none(id=endpoint_id, account_id=account_id)
    if row is None:
        raise NotFound("No such scan endpoint.")
    return row


def _view(row: ScanEndpoint) -> EndpointView:
    return EndpointView(
        id=row.id,
        url=row.url,
        description=row.description,
        created_at=row.created_at,
        disabled=row.disabled_at is not None,
        disabled_at=row.disabled_at,
        disabled_reason=row.disabled_reason,
        failing_since=row.failing_since,
    )


def require_webhooks(tier: Tier) -> None:
    if not tier.webhooks:
        raise NotInTier(
            f"Scan webhooks are not part of the {tier.name} tier; they need mega.",
            code="tier_required",
        )


async def _insert_in_free_slot(
    account_id: str, limit: int, url: str, description: str | None, ciphertext: str
) -> ScanEndpoint:
    # Each lost race means another registration took a slot, so `limit` rounds always settle.
    for _ in range(limit + 1):
        rows = await ScanEndpoint.filter(account_id=account_id).only("id", "slot")
        used = {row.slot for row in rows}
        free = [slot for slot in range(limit) if slot not in used]
        if not free:
            break
        try:
            return await ScanEndpoint.create(
                id=new_id("wep"),
                account_id=account_id,
                slot=free[0],
                url=url,
                description=description,
                secret_ciphertext=ciphertext,
            )
        except IntegrityError:
            continue
    raise Conflict(f"An account can have at most {limit} scan endpoints.", code="endpoint_limit")
