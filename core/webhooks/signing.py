"""The signature headers of CONTRACT §7, and a verifier for receivers and tests.

Two schemes sign the same raw body:
- `X-Qrmint-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret as UTF-8, "<t>.<body>")>` (Stripe-like);
- Standard Webhooks: `webhook-id`, `webhook-timestamp`,
  `webhook-signature: v1,<base64 HMAC-SHA256(base64-decoded secret, "<id>.<t>.<body>")>`.

Receivers verify the first with `verify_signature`, the second with any Standard Webhooks library.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time

from core.webhooks.secrets import secret_key_bytes

SIGNATURE_HEADER = "X-Qrmint-Signature"
EVENT_ID_HEADER = "X-Qrmint-Event-Id"
DEFAULT_TOLERANCE = 300


def qrmint_signature(secret: str, timestamp: int, body: bytes) -> str:
    message = str(timestamp).encode("ascii") + b"." + body
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def standard_signature(secret: str, event_id: str, timestamp: int, body: bytes) -> str:
    message = f"{event_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_key_bytes(secret), message, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def signed_headers(secret: str, event_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """Every header of one delivery attempt; `timestamp` is the attempt's unix time."""
    return {
        "Content-Type": "application/json",
        EVENT_ID_HEADER: event_id,
        SIGNATURE_HEADER: f"t={timestamp},v1={qrmint_signature(secret, timestamp, body)}",
        "webhook-id": event_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": f"v1,{standard_signature(secret, event_id, timestamp, body)}",
    }


def verify_signature(
    secret: str,
    header: str,
    body: bytes,
    *,
    tolerance: int = DEFAULT_TOLERANCE,
    now: float | None = None,
) -> bool:
    """True when `header` (X-Qrmint-Signature) signs `body` with `secret` within `tolerance` s.

    Any of several `v1=` entries may match (room for secret rotation). A timestamp further
    than `tolerance` seconds from `now` is refused, which bounds replays.
    """
    timestamp, candidates = _parse(header)
    if timestamp is None or not candidates:
        return False
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance:
        return False
    expected = qrmint_signature(secret, timestamp, body)
    return any(hmac.compare_digest(expected, candidate) for candidate in candidates)


def _parse(header: str) -> tuple[int | None, list[str]]:
    timestamp: int | None = None
    candidates: list[str] = []
    for item in header.split(","):
        key, _, value = item.strip().partition("=")
        if key == "t" and value.isdigit():
            timestamp = int(value)
        elif key == "v1" and value:
            candidates.append(value)
    return timestamp, candidates
