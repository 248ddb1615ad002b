"""The bundle of services both surfaces (REST and GraphQL) call, wired once per process."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any, Protocol

from core.accounts import Principal
from core.bus import EventBus
from core.config import Settings
from core.domains import DomainService
from core.errors import NotAvailable
from core.qrcodes import QrService
from core.ratelimit import RateLimiter
from core.tiers import Tiers


class StatsProvider(Protocol):
    """Scan statistics (implemented in analytics); raises the core domain errors."""

    async def stats(
        self,
        principal: Principal,
        qr_id: str,
        start: date | None,
        end: date | None,
        tz: str | None = None,
    ) -> Any: ...

    async def counts(self, principal: Principal, qr_id: str) -> Any: ...

    async def scans(
        self,
        principal: Principal,
        qr_id: str,
        start: date | None,
        end: date | None,
        first: int,
        after: str | None,
    ) -> Any: ...

    async def export_csv(
        self, principal: Principal, qr_id: str, start: date | None, end: date | None
    ) -> Any: ...

    async def refusals(self, principal: Principal, start: date | None, end: date | None) -> Any: ...


class NoStats:
    """The provider of a process without a scan store: both surfaces get the same answer."""

    async def stats(self, *args: Any, **kwargs: Any) -> Any:
        raise _unavailable()

    async def counts(self, *args: Any, **kwargs: Any) -> Any:
        raise _unavailable()

    async def scans(self, *args: Any, **kwargs: Any) -> Any:
        raise _unavailable()

    async def export_csv(self, *args: Any, **kwargs: Any) -> Any:
        raise _unavailable()

    async def refusals(self, *args: Any, **kwargs: Any) -> Any:
        raise _unavailable()


def _unavailable() -> NotAvailable:
    return NotAvailable(
        "Scan analytics are not available in this process: another process owns the "
        "analytics store (run the API beside `qrmint serve`, or use a ClickHouse server)."
    )


@dataclass(frozen=True)
class Services:
    settings: Settings
    tiers: Tiers
    qr: QrService
    limiter: RateLimiter
    bus: EventBus
    stats: StatsProvider = field(default_factory=NoStats)
    domains: DomainService = None  # type: ignore[assignment]  # see __post_init__

    def __post_init__(self) -> None:
        if self.domains is None:
            # The default verifier checks through the real network (DNS, port 80).
            object.__setattr__(self, "domains", DomainService(self.settings, self.qr.links))
