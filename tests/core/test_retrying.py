"""The one retry policy: exponential waits with a ceiling, reset by a success."""

from __future__ import annotations

import logging

import pytest

from core.retrying import Backoff, retry_until_done


def test_waits_double_up_to_the_ceiling_and_reset_after_a_success() -> None:
    backoff = Backoff(0.1, 0.5)
    assert [backoff.failed() for _ in range(5)] == [0.1, 0.2, 0.4, 0.5, 0.5]
    assert (backoff.failures, backoff.waiting) == (5, True)
    backoff.succeeded()
    assert (backoff.failures, backoff.waiting, backoff.failed()) == (0, False, 0.1)


def test_a_nonsense_policy_is_refused() -> None:
    with pytest.raises(ValueError, match="0 < first <= ceiling"):
        Backoff(1.0, 0.5)


async def test_retries_until_the_attempt_succeeds(caplog: pytest.LogCaptureFixture) -> None:
    calls: list[int] = []

    async def flaky() -> None:
        calls.append(1)
        if len(calls) < 3:
            raise ConnectionError("not yet")

    backoff = Backoff(0.001, 0.002)
    assert await retry_until_done(flaky, backoff, logging.getLogger("t"), "the thing")
    assert len(calls) == 3
    assert not backoff.waiting
    assert "the thing failed 1 times" in caplog.text


async def test_gives_up_when_told_and_says_so(caplog: pytest.LogCaptureFixture) -> None:
    async def down() -> None:
        raise ConnectionError("down")

    backoff = Backoff(0.001, 0.002)
    done = await retry_until_done(down, backoff, logging.getLogger("t"), "x", give_up=lambda: True)
    assert not done
    assert backoff.failures == 1
    assert "giving up for now" in caplog.text
