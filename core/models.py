"""The relational data model (Tortoise ORM). Identifiers are prefixed random strings."""

from __future__ import annotations

import secrets
from typing import Any

from tortoise import fields
from tortoise.models import Model


def new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(10)}"


def is_id(value: str, prefix: str) -> bool:
    """Cheap shape check before a lookup: a foreign string never reaches the database."""
    head, _, tail = value.partition("_")
    return head == prefix and len(tail) == 20 and tail.isascii() and tail.isalnum()


class Account(Model):
    id = fields.CharField(primary_key=True, max_length=32)
    name = fields.CharField(max_length=200, null=True)
    tier = fields.CharField(max_length=16)
    # Kept beside the rows it counts so the limit check is one conditional UPDATE (atomic).
    dynamic_qr_count = fields.IntField(default=0)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "accounts"


class ApiKey(Model):
    id = fields.CharField(primary_key=True, max_length=32)
    account: fields.ForeignKeyRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="keys", on_delete=fields.CASCADE
    )
    account_id: str
    name = fields.CharField(max_length=200, null=True)
    prefix = fields.CharField(max_length=16)
    key_hash = fields.CharField(max_length=64, unique=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    revoked_at = fields.DatetimeField(null=True)

    class Meta:
        table = "api_keys"


class MonthlyUsage(Model):
    id = fields.IntField(primary_key=True)
    account: fields.ForeignKeyRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="usage", on_delete=fields.CASCADE
    )
    account_id: str
    month = fields.CharField(max_length=7)
    generations = fields.IntField(default=0)

    class Meta:
        table = "monthly_usage"
        unique_together = (("account", "month"),)


class QrCode(Model):
    id = fields.CharField(primary_key=True, max_length=32)
    account: fields.ForeignKeyRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="qr_codes", on_delete=fields.CASCADE
    )
    account_id: str
    type = fields.CharField(max_length=8)
    data = fields.TextField()
    # "" is the redirect base URL's own domain; short codes are unique per domain.
    domain = fields.CharField(max_length=253, default="", db_default="")
    short_code = fields.CharField(max_length=16, null=True)
    destination = fields.TextField(null=True)
    format = fields.CharField(max_length=4)
    size = fields.IntField()
    margin = fields.IntField()
    error_correction = fields.CharField(max_length=1)
    style: fields.Field[Any] = fields.JSONField(default=dict)
    name = fields.CharField(max_length=200, null=True)
    # Dynamic link options (docs/links.md); rules, split and utm as normalized JSON.
    paused = fields.BooleanField(default=False, db_default=False)
    expires_at = fields.DatetimeField(null=True)
    max_scans = fields.IntField(null=True)
    password_hash = fields.CharField(max_length=200, null=True)
    forward_query = fields.BooleanField(default=False, db_default=False)
    utm: fields.Field[Any] = fields.JSONField(null=True)
    rules: fields.Field[Any] = fields.JSONField(null=True)
    split: fields.Field[Any] = fields.JSONField(null=True)
    # Soft delete: the row keeps its short code reserved forever and its scans stay.
    deleted_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "qr_codes"
        indexes = (("account_id", "created_at"),)
        unique_together = (("domain", "short_code"),)


# A custom short domain; it routes scans once verified (docs/links.md).
class Domain(Model):
    id = fields.CharField(primary_key=True, max_length=32)
    account: fields.ForeignKeyRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="domains", on_delete=fields.CASCADE
    )
    account_id: str
    # One of the tier's N slots, as for webhook endpoints: the limit holds under races.
    slot = fields.SmallIntField()
    hostname = fields.CharField(max_length=253)
    # Set on verification; unique, so a hostname serves one account at most.
    verified_hostname = fields.CharField(max_length=253, null=True, unique=True)
    token = fields.CharField(max_length=64)
    verified_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "domains"
        unique_together = (("account", "slot"), ("account", "hostname"))


# Redirects served by a `max_scans` link, written behind the live counter (Redis or
# in-process), so a counter that starts again resumes from here rather than from zero.
class ScanCounter(Model):
    qr_id = fields.CharField(primary_key=True, max_length=32)
    taken = fields.IntField(default=0)

    class Meta:
        table = "scan_counters"


class ScanEndpoint(Model):
    id = fields.CharField(primary_key=True, max_length=32)
    account: fields.ForeignKeyRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="scan_endpoints", on_delete=fields.CASCADE
    )
    account_id: str
    # One of the tier's N slots; the unique pair makes the endpoint limit race-free on any backend.
    slot = fields.SmallIntField()
    url = fields.TextField()
    description = fields.CharField(max_length=500, null=True)
    # Fernet token of the signing secret; the plaintext is shown once at registration.
    secret_ciphertext = fields.TextField()
    consecutive_failures = fields.IntField(default=0)
    # The first failure since the last success; None while the endpoint answers.
    failing_since = fields.DatetimeField(null=True)
    disabled_at = fields.DatetimeField(null=True)
    disabled_reason = fields.CharField(max_length=16, null=True)  # failing | manual
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "scan_endpoints"
        unique_together = (("account", "slot"),)


class WebhookDelivery(Model):
    id = fields.BigIntField(primary_key=True)
    event_id = fields.CharField(max_length=40)
    endpoint: fields.ForeignKeyRelation[ScanEndpoint] = fields.ForeignKeyField(
        "models.ScanEndpoint", related_name="deliveries", on_delete=fields.CASCADE
    )
    endpoint_id: str  # for the type checker; Tortoise adds the column attribute itself
    payload = fields.TextField()
    status = fields.CharField(max_length=12, default="pending")
    # Counted when claimed, so an attempt cut short by a crash still counts.
    attempts = fields.IntField(default=0)
    next_attempt_at = fields.DatetimeField()
    locked_until = fields.DatetimeField(null=True)
    # Which claim holds the lease: a worker whose lease lapsed cannot overwrite a newer claim.
    claim_token = fields.CharField(max_length=32, null=True)
    last_error = fields.TextField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    delivered_at = fields.DatetimeField(null=True)

    class Meta:
        table = "webhook_deliveries"
        indexes = (("status", "next_attempt_at"), ("endpoint_id",))
        # A scan written twice (a replay after a crash) must not deliver twice.
        unique_together = (("event_id", "endpoint"),)
