"""The few domain errors, each with the contract's code and HTTP status.

Services raise these; each surface maps them to its form exactly once
(REST: status + `{"error": ...}` body, GraphQL: `extensions.code`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class FieldProblem:
    field: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "message": self.message}


class DomainError(Exception):
    status: int = 400
    code: str = "bad_request"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        details: Sequence[FieldProblem] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.details = tuple(details or ())
        self.headers = dict(headers or {})

    def as_body(self) -> dict[str, object]:
        error: dict[str, object] = {"code": self.code, "message": self.message}
        if self.details:
            error["details"] = [problem.as_dict() for problem in self.details]
        return {"error": error}


class MalformedRequest(DomainError):
    status, code = 400, "malformed_json"


class Unauthenticated(DomainError):
    status, code = 401, "unauthenticated"


class NotInTier(DomainError):
    """`tier_required` or `analytics_not_in_tier`."""

    status, code = 403, "tier_required"


class NotFound(DomainError):
    """Unknown, or someone else's: the two are indistinguishable on purpose."""

    status, code = 404, "not_found"


class Conflict(DomainError):
    """`not_dynamic`, `endpoint_limit`."""

    status, code = 409, "conflict"


class PayloadTooLarge(DomainError):
    status, code = 413, "payload_too_large"


class Invalid(DomainError):
    """422: `validation_error`, `data_too_long`, `low_contrast`, `logo_too_large`,
    `dynamic_qr_limit`, `bulk_limit`, `unsafe_url`."""

    status, code = 422, "validation_error"


class Throttled(DomainError):
    """`rate_limited` or `quota_exceeded`; carries Retry-After."""

    status, code = 429, "rate_limited"


def invalid_field(field: str, message: str, *, code: str = "validation_error") -> Invalid:
    return Invalid(message, code=code, details=[FieldProblem(field, message)])


class NotAvailable(DomainError):
    """A part this process was not started with (e.g. no analytics store)."""

    status, code = 501, "not_implemented"


class Unavailable(DomainError):
    """A dependency (Redis) failed after the change was saved; retrying is safe."""

    status, code = 503, "service_unavailable"
