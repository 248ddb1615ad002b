"""One redirector process for the multi-process tests.

    python tests/redirector/redirector_proc.py PORT

Configured like `qrmint redirector` through QRMINT_* variables (database, Redis, secret).
It starts serving only once its invalidation feed is live, then runs until SIGTERM.
"""

from __future__ import annotations

import asyncio
import sys

import redis.asyncio as aioredis
import uvicorn

from core.bus import RedisBus
from core.config import load_settings
from core.db import close_database, open_database
from redirector.wiring import open_redirector


async def main(port: int) -> None:
    settings = load_settings()
    assert settings.redis_url is not None
    await open_database(settings)
    redis = aioredis.from_url(settings.redis_url, decode_responses=True)
    bus = RedisBus(aioredis.from_url(settings.redis_url, decode_responses=True))
    try:
        async with open_redirector(settings, redis=redis, bus=bus, sinks=[]) as app:
            for _ in range(1000):
                if app.state.resolver.live:
                    break
                await asyncio.sleep(0.01)
            else:
                raise SystemExit("the invalidation feed never became live")
            config = uvicorn.Config(
                app,
                host="127.0.0.1",
                port=port,
                lifespan="off",
                log_level="warning",
                ws="none",
                access_log=False,
                proxy_headers=False,
            )
            await uvicorn.Server(config).serve()
    finally:
        await bus.close()
        await redis.aclose()
        await close_database()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
