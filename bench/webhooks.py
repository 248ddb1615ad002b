"""Webhook delivery throughput, and how fast `WebhookOutbox.commit` turns scans into rows.

A local HTTPS receiver (uvicorn in a child process, trustme certificate, keep-alive) stands
in for 5 endpoints of one mega account; SQLite in a temporary directory is the queue; the
worker runs with its default limits. Prints deliveries/s and scans queued per second.
Run: `python -m bench.webhooks`.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import trustme

from core.config import Settings, load_settings
from core.db import close_database, migrate_database, open_database
from core.models import Account, WebhookDelivery, new_id
from core.scans import ScanBatch, ScanRow
from core.tiers import load_tiers
from core.webhooks import DeliveryWorker, WebhookOutbox, register_endpoint

SCANS = 400
ENDPOINTS = 5
HOST = "hooks.bench"


class Receiver:
    """A minimal ASGI app: POST answers 204 and is counted, GET tells the count."""

    def __init__(self) -> None:
        self.count = 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        while (await receive()).get("more_body"):
            pass
        body = b""
        if scope["method"] == "POST":
            self.count += 1
        else:
            body = str(self.count).encode()
        await send({"type": "http.response.start", "status": 200 if body else 204})
        await send({"type": "http.response.body", "body": body})


receiver_app = Receiver()  # what the child process serves


async def resolve(host: str, port: int) -> list[str]:
    return ["127.0.0.1"]


def scan(account_id: str, index: int) -> ScanRow:
    return ScanRow(
        scanned_at=datetime.now(UTC), qr_id=f"qr_{index}", account_id=account_id,
        short_code="bench", destination="https://example.com/", visitor="v", is_unique=True,
        country="DE", city="Berlin", device="mobile", browser="Chrome", os="Android",
        referrer_host="", is_bot=False,
    )  # fmt: skip


def serve(directory: Path) -> tuple[subprocess.Popen[bytes], int, Path]:
    ca = trustme.CA()
    cert = ca.issue_cert(HOST, "127.0.0.1")
    ca_path, cert_path, key_path = (directory / n for n in ("ca.pem", "cert.pem", "key.pem"))
    ca.cert_pem.write_to_path(str(ca_path))
    cert.cert_chain_pems[0].write_to_path(str(cert_path))
    cert.private_key_pem.write_to_path(str(key_path))
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [
        sys.executable, "-m", "uvicorn", "bench.webhooks:receiver_app", "--host", "127.0.0.1",
        "--port", str(port), "--ssl-certfile", str(cert_path), "--ssl-keyfile", str(key_path),
        "--log-level", "warning", "--no-access-log", "--lifespan", "off",
    ]  # fmt: skip
    return subprocess.Popen(command), port, ca_path


async def received(port: int, ca_path: Path) -> int:
    """The receiver's count; retried while the child process starts."""
    async with httpx.AsyncClient(verify=ssl.create_default_context(cafile=ca_path)) as client:
        for _ in range(100):
            try:
                return int((await client.get(f"https://127.0.0.1:{port}/count")).text)
            except httpx.TransportError:
                await asyncio.sleep(0.1)
    raise RuntimeError("the receiver did not start")


async def deliver_all(settings: Settings) -> tuple[int, float]:
    worker = DeliveryWorker(settings, resolver=resolve)
    started = time.perf_counter()
    delivered = 0
    while claimed := await worker.run_once():
        delivered += claimed
    elapsed = time.perf_counter() - started
    await worker.aclose()
    return delivered, elapsed


async def main(directory: Path) -> None:
    child, port, ca_path = serve(directory)
    await received(port, ca_path)
    settings = load_settings(
        {
            "QRMINT_DATA_DIR": str(directory),
            "QRMINT_SECRET_KEY": "bench-secret-key-0123456789",
            "QRMINT_WEBHOOK_ALLOW_PRIVATE": "true",
            "QRMINT_WEBHOOK_CA_BUNDLE": str(ca_path),
        },
        env_file=str(directory / "no.env"),
    )
    await migrate_database(settings)
    await open_database(settings)
    try:
        account = (await Account.create(id=new_id("acc"), tier="mega")).id
        mega = load_tiers()["mega"]
        for index in range(ENDPOINTS):
            url = f"https://{HOST}:{port}/hook/{index}"
            await register_endpoint(settings, mega, account, url, None, resolver=resolve)
        outbox = WebhookOutbox()
        rows = [scan(account, index) for index in range(SCANS)]
        began = time.perf_counter()
        for first in range(0, SCANS, 500):
            chunk = rows[first : first + 500]
            keys = [f"bench-{first + n}" for n in range(len(chunk))]
            await outbox.commit(ScanBatch(f"bench-{first}", chunk, keys))
        queued_in = time.perf_counter() - began
        print(f"outbox.commit: {SCANS} scans queued in {queued_in:.2f} s "
              f"({SCANS / queued_in:,.0f} scans/s, {ENDPOINTS} endpoints)")  # fmt: skip
        queued = await WebhookDelivery.filter(status="pending").count()
        delivered, elapsed = await deliver_all(settings)
        count = await received(port, ca_path)
        print(
            f"webhooks: {delivered} deliveries ({queued} queued, {count} received) "
            f"to {ENDPOINTS} HTTPS endpoints in {elapsed:.2f} s = {delivered / elapsed:.0f}/s"
        )
    finally:
        await close_database()
        child.terminate()
        child.wait()


def run() -> None:
    with tempfile.TemporaryDirectory(prefix="qrmint-bench-webhooks-") as directory:
        asyncio.run(main(Path(directory)))


if __name__ == "__main__":
    run()
