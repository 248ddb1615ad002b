"""Small helpers shared by several test packages (fixtures live in the conftest files)."""

from __future__ import annotations

import os
import socket
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from core.links import LinkTarget, version_of
from core.models import QrCode

QRMINT = str(Path(sys.executable).with_name("qrmint"))  # the installed command
# The Redis server the tests use; point it elsewhere to run two suites side by side.
REDIS_SERVER = os.environ.get("QRMINT_TEST_REDIS", "redis://127.0.0.1:6379").rstrip("/")


def redis_url(db: int) -> str:
    """A numbered database of the test Redis server (each test package keeps to its own)."""
    return f"{REDIS_SERVER}/{db}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class RecordingLinks:
    """A link publisher that remembers what the QR service announced."""

    published: list[LinkTarget] = field(default_factory=list)
    domains: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)

    async def publish_change(self, target: LinkTarget) -> None:
        self.published.append(target)

    async def publish_domain(self, hostname: str, *, stale_links: Sequence[str] = ()) -> None:
        self.domains.append((hostname, tuple(stale_links)))


async def set_destination(target: LinkTarget, destination: str) -> LinkTarget:
    """As the API does it: save the row (a new updated_at is the new version)."""
    qr = await QrCode.get(id=target.qr_id)
    qr.destination = destination
    await qr.save(update_fields=["destination", "updated_at"])
    return LinkTarget(
        qr.id, target.account_id, target.short_code, destination, version_of(qr.updated_at)
    )


def write_test_geoip(path: Path) -> Path:
    """A MaxMind-format City database of documentation ranges: 203.0.113.0/24 is Berlin (DE),
    198.51.100.0/24 New York (US), 2001:db8::/32 France without a city."""
    from mmdb_writer import MMDBWriter
    from netaddr import IPSet

    writer = MMDBWriter(ip_version=6, ipv4_compatible=True, database_type="GeoIP2-City")
    berlin = {"country": {"iso_code": "DE"}, "city": {"names": {"en": "Berlin"}}}
    new_york = {"country": {"iso_code": "US"}, "city": {"names": {"en": "New York"}}}
    writer.insert_network(IPSet(["203.0.113.0/24"]), berlin)
    writer.insert_network(IPSet(["198.51.100.0/24"]), new_york)
    writer.insert_network(IPSet(["2001:db8::/32"]), {"country": {"iso_code": "FR"}})
    writer.to_db_file(str(path))
    return path
