"""Subscription root: live scan counts over graphql-transport-ws."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from contextlib import aclosing

import strawberry
from strawberry.types import Info

from schema.context import GraphQLContext, principal_of, services_of
from schema.fields import subscription
from schema.live_counts import Counts, live_counts
from schema.stats_types import ScanCount, scan_count

Ctx = Info[GraphQLContext, None]


@strawberry.type
class Subscription:
    @subscription("The current counts first, then one update per scan.")
    async def scan_count(self, info: Ctx, qr_id: strawberry.ID) -> AsyncGenerator[ScanCount, None]:
        # Not a generator itself: the first value (and so every refusal: not_found, tier,
        # auth) is awaited here, which makes a refusal the protocol's `error` message.
        context = info.context
        source = live_counts(services_of(info), principal_of(info), str(qr_id), context.recheck)
        try:
            first = await anext(source)
        except BaseException:
            await source.aclose()
            raise
        return _relay(str(qr_id), first, source)


async def _relay(
    qr_id: str, first: Counts, source: AsyncGenerator[Counts, None]
) -> AsyncGenerator[ScanCount, None]:
    # aclosing: when the client completes, the bus subscription is released at once.
    async with aclosing(source):
        yield scan_count(qr_id, first)
        async for value in source:
            yield scan_count(qr_id, value)
