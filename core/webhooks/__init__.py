"""Scan webhooks (CONTRACT §5, §7): endpoints, the outbox fed by scans, the delivery worker.

Flow: the redirector's journal consumer commits batches of scans to `WebhookOutbox`, which
writes one `WebhookDelivery` row per enabled endpoint (idempotently); `DeliveryWorker`
claims due rows under a lease, signs (`signing`), checks the URL again and sends to the
checked address (`ssrf`, `sender`), and records success, a retry (`backoff`) or the final
failure.
"""

from __future__ import annotations

from core.webhooks.delivery import DeliveryWorker
from core.webhooks.outbox import WebhookOutbox
from core.webhooks.service import (
    EndpointView,
    RegisteredEndpoint,
    delete_endpoint,
    list_endpoints,
    register_endpoint,
)
from core.webhooks.signing import signed_headers, verify_signature

__all__ = [
    "DeliveryWorker",
    "EndpointView",
    "RegisteredEndpoint",
    "WebhookOutbox",
    "delete_endpoint",
    "list_endpoints",
    "register_endpoint",
    "signed_headers",
    "verify_signature",
]
