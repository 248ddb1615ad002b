"""Query root: reads, each one service call translated to output types."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import strawberry
from strawberry.types import Info

from core.accounts import describe_account
from core.quota import current_month
from core.webhooks.service import list_endpoints
from schema.account_types import Account, ScanEndpoint, account, scan_endpoint
from schema.context import GraphQLContext, principal_of, services_of
from schema.fields import charged, field
from schema.link_types import Domain, domain
from schema.qr_types import QrCode, QrCodeConnection, connection, qr_code
from schema.stats_types import (
    QrStats,
    RefusedScans,
    ScanList,
    qr_stats,
    refused_scans,
    scan_list,
)

Ctx = Info[GraphQLContext, None]
DEFAULT_PAGE = 20


@strawberry.type
class Query:
    @field("One QR code of this account; someone else's is not_found.")
    async def qr(self, info: Ctx, id: strawberry.ID) -> QrCode | None:
        return qr_code(await services_of(info).qr.get(principal_of(info), str(id)))

    @field("This account's QR codes, newest first (1..100 per page).")
    async def qrs(
        self, info: Ctx, first: int | None = DEFAULT_PAGE, after: str | None = strawberry.UNSET
    ) -> QrCodeConnection:
        size = DEFAULT_PAGE if first is None else first
        return connection(await services_of(info).qr.page(principal_of(info), size, after or None))

    @charged("Scan statistics; the window defaults to the tier's retention. Costs a token.")
    async def qr_stats(
        self,
        info: Ctx,
        id: strawberry.ID,
        from_: Annotated[date | None, strawberry.argument(name="from")] = strawberry.UNSET,
        to: date | None = strawberry.UNSET,
        tz: str | None = strawberry.UNSET,
    ) -> QrStats | None:
        # UNSET keeps the SDL as the contract prints it (no `= null`); it means "not given".
        stats = services_of(info).stats
        found = await stats.stats(
            principal_of(info), str(id), from_ or None, to or None, tz or None
        )
        return qr_stats(found)

    @charged("One QR code's raw scans in the window, oldest first (scans.csv). Costs a token.")
    async def qr_scans(
        self,
        info: Ctx,
        id: strawberry.ID,
        from_: Annotated[date | None, strawberry.argument(name="from")] = strawberry.UNSET,
        to: date | None = strawberry.UNSET,
        first: int | None = 100,
        after: str | None = strawberry.UNSET,
    ) -> ScanList | None:
        stats = services_of(info).stats
        page = await stats.scans(
            principal_of(info), str(id), from_ or None, to or None, 100 if first is None else first,
            after or None,
        )  # fmt: skip
        return scan_list(page)

    @charged("Refused and orphan scans per domain (GET /refused-scans). Costs a token.")
    async def refused_scans(
        self,
        info: Ctx,
        from_: Annotated[date | None, strawberry.argument(name="from")] = strawberry.UNSET,
        to: date | None = strawberry.UNSET,
    ) -> RefusedScans | None:
        report = await services_of(info).stats.refusals(
            principal_of(info), from_ or None, to or None
        )
        return refused_scans(report)

    @field("This account's custom short domains (GET /domains).")
    async def domains(self, info: Ctx) -> list[Domain]:
        return [
            domain(view) for view in await services_of(info).domains.list_all(principal_of(info))
        ]

    @field("Scan webhook endpoints (any tier: listed even after leaving mega); no secrets.")
    async def scan_endpoints(self, info: Ctx) -> list[ScanEndpoint]:
        views = await list_endpoints(principal_of(info).account_id)
        return [scan_endpoint(view) for view in views]

    @field("The calling account: tier, its limits, usage this month.")
    async def me(self, info: Ctx) -> Account:
        return account(await describe_account(principal_of(info)), current_month())
