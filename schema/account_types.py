"""The caller's account (tier, limits, usage) and scan webhook endpoints."""

from __future__ import annotations

from datetime import datetime

import strawberry

from core.accounts import AccountOverview
from core.tiers import Tier
from core.webhooks.service import EndpointView, RegisteredEndpoint


@strawberry.type(description="What the tier allows (docs/api.md, Tiers).")
class TierLimits:
    rate_per_second: int
    dynamic_qr_limit: int
    generations_per_month: int
    bulk: bool
    analytics_retention_days: int = strawberry.field(description="0: no analytics.")
    scan_webhooks: bool
    max_scan_endpoints: int
    passwords: bool = strawberry.field(description="Password-protected links.")
    max_rules: int = strawberry.field(description="Redirect rules per link; 0: none.")
    max_split_variants: int = strawberry.field(description="A/B variants per link; 0: none.")
    max_domains: int = strawberry.field(description="Custom short domains; 0: none.")


@strawberry.type(description="Usage in the current calendar month (UTC).")
class Usage:
    month: str = strawberry.field(description="YYYY-MM")
    generations_used: int
    dynamic_qr_count: int = strawberry.field(description="Dynamic QR codes in use (all time).")


@strawberry.type
class Account:
    id: strawberry.ID
    name: str | None
    tier: str
    limits: TierLimits
    usage: Usage


@strawberry.type(description="A scan webhook endpoint; its secret is shown only at registration.")
class ScanEndpoint:
    id: strawberry.ID
    url: str
    description: str | None
    created_at: datetime
    enabled: bool = strawberry.field(description="Whether new scans are queued for it.")
    disabled_at: datetime | None = None
    disabled_reason: str | None = strawberry.field(
        default=None, description="failing (24 hours of failed deliveries) or manual."
    )
    failing_since: datetime | None = strawberry.field(
        default=None, description="First failed delivery since the last success."
    )


@strawberry.type(description="The answer to a registration: the only time `secret` is shown.")
class RegisteredScanEndpoint(ScanEndpoint):
    secret: str


def limits(tier: Tier) -> TierLimits:
    return TierLimits(
        rate_per_second=tier.rate_per_second,
        dynamic_qr_limit=tier.dynamic_qr_limit,
        generations_per_month=tier.generations_per_month,
        bulk=tier.bulk,
        analytics_retention_days=tier.retention_days,
        scan_webhooks=tier.webhooks,
        max_scan_endpoints=tier.max_webhook_endpoints,
        passwords=tier.passwords,
        max_rules=tier.max_rules,
        max_split_variants=tier.max_split_variants,
        max_domains=tier.max_domains,
    )


def account(overview: AccountOverview, month: str) -> Account:
    usage = Usage(
        month=month,
        generations_used=overview.generations_used,
        dynamic_qr_count=overview.dynamic_qr_count,
    )
    return Account(
        id=strawberry.ID(overview.id),
        name=overview.name,
        tier=overview.tier.name,
        limits=limits(overview.tier),
        usage=usage,
    )


def scan_endpoint(view: EndpointView) -> ScanEndpoint:
    return ScanEndpoint(
        id=strawberry.ID(view.id),
        url=view.url,
        description=view.description,
        created_at=view.created_at,
        enabled=view.enabled,
        disabled_at=view.disabled_at,
        disabled_reason=view.disabled_reason,
        failing_since=view.failing_since,
    )


def registered_endpoint(value: RegisteredEndpoint) -> RegisteredScanEndpoint:
    return RegisteredScanEndpoint(
        id=strawberry.ID(value.id),
        url=value.url,
        description=value.description,
        created_at=value.created_at,
        enabled=True,
        secret=value.secret,
    )
