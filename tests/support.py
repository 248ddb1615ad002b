"""Small helpers shared by several test packages (fixtures live in the conftest files)."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from collections.abc import Iterator, Sequence
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


PHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1"
)


@dataclass
class Burst:
    """Redirect requests over keep-alive connections, each scan tagged by its referer
    (`https://r{n}.example/`), so the store can be checked scan by scan."""

    host: str
    port: int
    code: str
    seen: set[int] = field(default_factory=set)  # numbers whose 302 the client received
    errors: int = 0

    async def run(self, numbers: range, connections: int = 16) -> set[int]:
        pending = iter(numbers)
        await asyncio.gather(*(self._connection(pending) for _ in range(connections)))
        return self.seen

    async def _connection(self, pending: Iterator[int]) -> None:
        try:
            reader, writer = await asyncio.open_connection(self.host, self.port)
        except OSError:
            self.errors += 1
            return
        try:
            for number in pending:
                writer.write(self._request(number))
                status = await _read_response(reader)
                if status == 302:
                    self.seen.add(number)
        except (OSError, asyncio.IncompleteReadError, ValueError):
            self.errors += 1  # the server went away mid-burst
        finally:
            writer.close()

    def _request(self, number: int) -> bytes:
        return (
            f"GET /{self.code} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
            f"User-Agent: {PHONE}\r\nReferer: https://r{number}.example/\r\n\r\n"
        ).encode()


async def _read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value)
    if length:
        await reader.readexactly(length)
    return int(lines[0].split(" ")[1])


@dataclass
class HttpsReceiver:
    """A webhook receiver on 127.0.0.1 over HTTPS (trustme certificate), keep-alive, 204 to
    everything; remembers every `webhook-id` it got. `ca_path` is for QRMINT_WEBHOOK_CA_BUNDLE."""

    directory: Path
    events: list[str] = field(default_factory=list)
    port: int = 0
    _server: asyncio.Server | None = None

    @property
    def ca_path(self) -> Path:
        return self.directory / "receiver-ca.pem"

    def url(self, path: str = "/hook") -> str:
        return f"https://127.0.0.1:{self.port}{path}"

    async def __aenter__(self) -> HttpsReceiver:
        import ssl

        import trustme

        ca = trustme.CA()
        ca.cert_pem.write_to_path(str(self.ca_path))
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ca.issue_cert("127.0.0.1").configure_cert(context)
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0, ssl=context)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        assert self._server is not None
        self._server.close()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
                headers = {
                    name.strip().lower(): value.strip()
                    for name, _, value in (line.partition(":") for line in head.split("\r\n")[1:])
                }
                await reader.readexactly(int(headers.get("content-length", "0")))
                self.events.append(headers.get("webhook-id", ""))
                writer.write(b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n")
                await writer.drain()
        except (OSError, asyncio.IncompleteReadError, ValueError):
            pass
        finally:
            writer.close()


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
