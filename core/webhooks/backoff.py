"""When a failed delivery is tried again: the one retry schedule (docs/webhooks.md).

Attempt 1 is immediate; after each failure the next attempt waits, by attempt number:
5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h, as the Standard Webhooks senders do. That is 8
attempts over about 27 h 35 min, so every event outlasts the 24 hours after which a
failing endpoint is disabled (`health.DISABLE_AFTER`). Jitter only ever lengthens a wait,
by up to 20 %, so receivers recovering from an outage are not hit by a synchronized wave
and the schedule above stays a lower bound.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Protocol

SCHEDULE = (
    timedelta(seconds=5),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
    timedelta(hours=10),
)
MAX_ATTEMPTS = len(SCHEDULE) + 1
JITTER = 0.2


class Random(Protocol):
    def random(self) -> float: ...


def retry_delay(attempts_made: int, rng: Random) -> timedelta | None:
    """The wait before the next attempt, or None when `attempts_made` was the last one."""
    if attempts_made < 1 or attempts_made >= MAX_ATTEMPTS:
        return None
    base = SCHEDULE[attempts_made - 1]
    return base * (1.0 + JITTER * rng.random())
