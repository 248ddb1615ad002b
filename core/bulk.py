"""Bulk generation: up to 50 items, each succeeding or failing alone."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

import anyio

from core.accounts import Principal
from core.errors import DomainError, Invalid, NotInTier
from core.qrcodes import GenerateSpec, QrService
from core.qrviews import GeneratedQr

MAX_ITEMS = 50
Item = TypeVar("Item")


@dataclass(frozen=True)
class BulkItem:
    index: int
    result: GeneratedQr | None
    error: DomainError | None


def require_bulk(principal: Principal, count: int) -> None:
    """The tier first (a key without bulk learns that before any item error), then the size."""
    if not principal.tier.bulk:
        raise NotInTier(
            f"Bulk generation is not part of the {principal.tier.name} tier; "
            "it needs ultra or mega.",
            code="tier_required",
        )
    if count > MAX_ITEMS:
        raise Invalid(
            f"The request has {count} items; at most {MAX_ITEMS} are allowed per call.",
            code="bulk_limit",
        )
    if count < 1:
        raise Invalid("The request has no items; send 1 to 50.", code="validation_error")


async def bulk_generate(
    service: QrService,
    principal: Principal,
    items: Sequence[Item],
    to_spec: Callable[[int, Item], GenerateSpec],
) -> list[BulkItem]:
    """`to_spec` turns one surface item into a spec; a DomainError from it fails that item."""
    require_bulk(principal, len(items))
    specs = [_spec_or_error(to_spec, index, item) for index, item in enumerate(items)]
    results: list[BulkItem | None] = [None] * len(specs)
    # As many items at once as there are render threads: one bulk request never holds
    # more than its share of the queue, and it is admitted (or refused: 503) as a whole.
    limiter = anyio.CapacityLimiter(service.renders.concurrency)

    async def run(index: int, spec: GenerateSpec | DomainError) -> None:
        async with limiter:
            results[index] = await _one(service, principal, index, spec)

    async with service.renders.admission(), anyio.create_task_group() as group:
        for index, spec in enumerate(specs):
            group.start_soon(run, index, spec)
    return [item for item in results if item is not None]


def _spec_or_error(
    to_spec: Callable[[int, Item], GenerateSpec], index: int, item: Item
) -> GenerateSpec | DomainError:
    try:
        return to_spec(index, item)
    except DomainError as exc:
        return exc


async def _one(
    service: QrService, principal: Principal, index: int, spec: GenerateSpec | DomainError
) -> BulkItem:
    if isinstance(spec, DomainError):
        return BulkItem(index, None, spec)
    try:
        return BulkItem(index, await service.generate(principal, spec), None)
    except DomainError as exc:
        return BulkItem(index, None, exc)
