"""Accounts and their API keys: creation, authentication, revocation, tier changes.

Keys are shown once and stored as SHA-256 digests: they carry 256 bits of entropy,
so a fast hash is enough and lets authentication be one indexed lookup.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from tortoise.transactions import in_transaction

from core.errors import NotFound, Unauthenticated, invalid_field
from core.models import Account, ApiKey, new_id
from core.quota import generations_used
from core.tiers import Tier, Tiers
from core.webhooks.cache import shared_cache

KEY_PREFIX = "qm_"


@dataclass(frozen=True)
class Principal:
    """Who is calling: resolved once per request from the key."""

    account_id: str
    key_id: str
    tier: Tier


@dataclass(frozen=True)
class KeyInfo:
    id: str
    account_id: str
    name: str | None
    tier: str
    prefix: str
    created_at: datetime
    revoked_at: datetime | None


def hash_key(raw_key: str) -> str:
    return hashlib.sha256(raw_key.encode()).hexdigest()


async def create_account(tiers: Tiers, tier: str, name: str | None = None) -> tuple[KeyInfo, str]:
    """Create an account with one key; returns the key's info and the plaintext key."""
    _check_tier(tiers, tier)
    raw_key = KEY_PREFIX + secrets.token_urlsafe(32)
    async with in_transaction():
        account = await Account.create(id=new_id("acc"), name=name, tier=tier)
        key = await ApiKey.create(
            id=new_id("key"),
            account=account,
            name=name,
            prefix=raw_key[:10],
            key_hash=hash_key(raw_key),
        )
    return _info(key, account), raw_key


async def list_keys() -> list[KeyInfo]:
    keys = await ApiKey.all().select_related("account").order_by("created_at")
    return [_info(key, key.account) for key in keys]


async def revoke_key(key_id: str) -> KeyInfo:
    key = await _get_key(key_id)
    if key.revoked_at is None:
        key.revoked_at = datetime.now(UTC)
        await key.save(update_fields=["revoked_at"])
    return _info(key, key.account)


async def set_tier(tiers: Tiers, key_id: str, tier: str) -> KeyInfo:
    _check_tier(tiers, tier)
    key = await _get_key(key_id)
    await Account.filter(id=key.account.id).update(tier=tier)
    key.account.tier = tier
    # Webhook endpoints follow the tier: this process forgets at once (others: see
    # core.webhooks.cache.announce_tier_change).
    shared_cache.invalidate(key.account.id)
    return _info(key, key.account)


async def authenticate(tiers: Tiers, raw_key: str | None) -> Principal:
    if not raw_key:
        raise Unauthenticated(
            "No API key was sent; pass it as 'Authorization: Bearer KEY' or 'X-API-Key: KEY'."
        )
    row = await ApiKey.filter(key_hash=hash_key(raw_key), revoked_at__isnull=True).values(
        "id", "account_id", "account__tier"
    )
    if not row:
        raise Unauthenticated("The API key is unknown or has been revoked.")
    found = row[0]
    return Principal(found["account_id"], found["id"], tiers[found["account__tier"]])


async def _get_key(key_id: str) -> ApiKey:
    key = await ApiKey.get_or_none(id=key_id).select_related("account")
    if key is None:
        raise NotFound(f"No API key with id {key_id!r}.")
    return key


def _check_tier(tiers: Tiers, tier: str) -> None:
    if tier not in tiers:
        raise invalid_field(
            "tier", f"Tier {tier!r} is unknown; expected one of {', '.join(tiers)}."
        )


def _info(key: ApiKey, account: Account) -> KeyInfo:
    return KeyInfo(
        id=key.id,
        account_id=account.id,
        name=key.name,
        tier=account.tier,
        prefix=key.prefix,
        created_at=key.created_at,
        revoked_at=key.revoked_at,
    )


@dataclass(frozen=True)
class AccountOverview:
    id: str
    name: str | None
    tier: Tier
    generations_used: int
    dynamic_qr_count: int


async def describe_account(principal: Principal) -> AccountOverview:
    account = await Account.get(id=principal.account_id)
    return AccountOverview(
        id=account.id,
        name=account.name,
        tier=principal.tier,
        generations_used=await generations_used(account.id),
        dynamic_qr_count=account.dynamic_qr_count,
    )
