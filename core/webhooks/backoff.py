"""When a failed delivery is tried again.

Attempt 1 is immediate; after each failure the next attempt waits, by attempt number:
30 s, 2 min, 10 min, 30 min, 1 h, 2 h, 4 h. That is 8 attempts over about 7 h 42 min
(the contract asks for at least 6 over at least an hour). Jitter only ever lengthens a wait,
by up to 20 %, so receivers recovering from an outage are not hit by a synchronized wave
and the schedule above stays a lower bound.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Protocol

SCHEDULE = (
    timedelta(seconds=30),
    timedelta(minutes=2),
    timedelta(minutes=10),
    timedelta(minutes=30),
    timedelta(hours=1),
    timedelta(hours=2),
    timedelta(hours=4),
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
