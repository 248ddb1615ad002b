"""Fixtures shared by every test package: throw-away Postgres databases and Redis DBs."""

from __future__ import annotations

import io
import secrets
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import asyncpg
import pytest
import resvg_py
import zxingcpp
from PIL import Image

PG_ADMIN = "postgres://postgres@127.0.0.1:5432/test"


@asynccontextmanager
async def _throwaway_postgres(prefix: str) -> AsyncIterator[str]:
    name = f"qrmint_{prefix}_{secrets.token_hex(4)}"
    admin = await asyncpg.connect(PG_ADMIN)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    try:
        yield f"postgres://postgres@127.0.0.1:5432/{name}"
    finally:
        admin = await asyncpg.connect(PG_ADMIN)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


@pytest.fixture(scope="session")
def postgres_database() -> Callable[[str], AbstractAsyncContextManager[str]]:
    """`async with postgres_database("api") as url:` a fresh database, dropped afterwards."""
    return _throwaway_postgres


def _decode(content: bytes, mime_type: str) -> str:
    if mime_type == "image/svg+xml":
        content = bytes(resvg_py.svg_to_bytes(svg_string=content.decode()))
    image = Image.open(io.BytesIO(content)).convert("RGBA")
    # A transparent code is printed on something light: decode it as a phone would see it.
    canvas = Image.new("RGBA", image.size, "white")
    canvas.alpha_composite(image)
    found = zxingcpp.read_barcodes(canvas.convert("RGB"))
    assert found, "zxing-cpp found no QR code in the image"
    return found[0].text


@pytest.fixture(scope="session")
def decode_image() -> Callable[[bytes, str], str]:
    """decode_image(bytes, mime_type) -> the text zxing-cpp reads from a PNG or SVG."""
    return _decode
