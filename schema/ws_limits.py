"""The bounds of a graphql-transport-ws connection, defined once (docs/limits.md).

* `connection_init` must arrive within CONNECTION_INIT_TIMEOUT of the upgrade, else the
  server closes with 4408 (the protocol's code);
* at most MAX_PER_CONNECTION operations run at once on one connection, and at most
  MAX_PER_KEY subscriptions per API key in one API process; beyond either, that subscribe
  gets an `error` message with `extensions.code` `subscription_limit`;
* a message that is not the protocol's shape closes the connection with 4400.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from datetime import timedelta

from core.errors import Conflict

CONNECTION_INIT_TIMEOUT = timedelta(seconds=10)
MAX_PER_CONNECTION = 25
MAX_PER_KEY = 100
MAX_OPERATION_ID = 128


class TooManyAttempts(Exception):
    """connection_init with bad keys past the anonymous bucket: close with 4429."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        # A close reason is at most 123 bytes.
        self.reason = reason.encode("utf-8")[:120].decode("utf-8", "ignore")


class SubscriptionLedger:
    """Open subscriptions per key in this process."""

    def __init__(self, limit: int = MAX_PER_KEY) -> None:
        self.limit = limit
        self._open: Counter[str] = Counter()

    def acquire(self, key_id: str) -> None:
        if self._open[key_id] >= self.limit:
            raise _limit(f"This API key already has {self.limit} open subscriptions")
        self._open[key_id] += 1

    def release(self, key_id: str) -> None:
        self._open[key_id] -= 1
        if self._open[key_id] <= 0:
            del self._open[key_id]

    def open_for(self, key_id: str) -> int:
        return self._open[key_id]


def check_connection(running: int) -> None:
    if running >= MAX_PER_CONNECTION:
        raise _limit(f"This connection already runs {MAX_PER_CONNECTION} operations")


def _limit(what: str) -> Conflict:
    return Conflict(f"{what}; complete one before subscribing again.", code="subscription_limit")


def message_problem(message: object) -> str | None:
    """Why a message is not a graphql-transport-ws message we can handle, or None."""
    if not isinstance(message, Mapping) or not isinstance(message.get("type"), str):
        return "A message must be a JSON object with a string `type`"
    kind = message["type"]
    if kind in ("subscribe", "complete"):
        op_id = message.get("id")
        if not isinstance(op_id, str) or not 0 < len(op_id) <= MAX_OPERATION_ID:
            return f"`{kind}` needs an `id`: a string of 1 to {MAX_OPERATION_ID} characters"
    if kind == "subscribe":
        return _payload_problem(message.get("payload"))
    return None


def _payload_problem(payload: object) -> str | None:
    if not isinstance(payload, Mapping) or not isinstance(payload.get("query"), str):
        return "`subscribe` needs a `payload` object with a string `query`"
    for name, kind in (("variables", Mapping), ("extensions", Mapping), ("operationName", str)):
        value = payload.get(name)
        if value is not None and not isinstance(value, kind):
            return f"`payload.{name}` has the wrong type"
    return None
