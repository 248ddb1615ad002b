"""Errors → GraphQL errors with `extensions.code`, in one place (the REST twin: api/errors.py).

* A `DomainError` raised by a service keeps its message and gets the REST code and details:
  `extensions: {"code": "unsafe_url", "details": [{"field": "url", "message": ...}]}`.
* A request GraphQL itself refuses (syntax, unknown field, wrong variable type) is
  `invalid_query` for syntax and `validation_error` otherwise; the abuse limits
  (depth, aliases, tokens) are `query_too_complex`.
* Anything else is a bug on our side: logged with its traceback, answered as
  `internal_error` with a fixed message, so no internals leak.

Applied as a schema extension so every transport (HTTP and graphql-transport-ws, including
each streamed subscription result) goes through the same translation.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from typing import Any

from graphql import GraphQLError, GraphQLSyntaxError
from strawberry.extensions import SchemaExtension
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError

from core.errors import DomainError

log = logging.getLogger(__name__)

INTERNAL_MESSAGE = "Something went wrong on our side."
# The messages of Strawberry's QueryDepthLimiter, MaxAliasesLimiter and MaxTokensLimiter.
_TOO_COMPLEX = re.compile(
    r"exceeds maximum operation depth|aliases found\. Allowed|contains more than \d+ tokens"
)
# Refusals Strawberry raises itself for a request it cannot run (wrong operation type).
_REQUEST_EXCEPTIONS = (CannotGetOperationTypeError, InvalidOperationTypeError)


def error_extensions(exc: DomainError) -> dict[str, Any]:
    return {"code": exc.code, "details": [problem.as_dict() for problem in exc.details]}


def error_payload(exc: DomainError) -> dict[str, Any]:
    """A formatted GraphQL error for refusals sent outside an execution (WS subscribe)."""
    return {"message": exc.message, "extensions": error_extensions(exc)}


def is_internal(error: GraphQLError) -> bool:
    """Raised by our code (not GraphQL's own checks) and not a domain refusal."""
    original = error.original_error
    if original is None or isinstance(original, (DomainError, GraphQLError)):
        return False
    if isinstance(original, _REQUEST_EXCEPTIONS):
        return False
    # A scalar refusing a variable (e.g. a bad Date) is located at the variable, off any path.
    return error.path is not None or not error.nodes


def translate(error: GraphQLError) -> GraphQLError:
    original = error.original_error
    if isinstance(original, DomainError):
        return _rebuilt(error, original.message, error_extensions(original))
    if is_internal(error):
        return _rebuilt(error, INTERNAL_MESSAGE, {"code": "internal_error", "details": []})
    return _rebuilt(error, error.message, {"code": _request_code(error), "details": []})


def _request_code(error: GraphQLError) -> str:
    if _TOO_COMPLEX.search(error.message):
        return "query_too_complex"
    if isinstance(error, GraphQLSyntaxError):
        return "invalid_query"
    return "validation_error"


def _rebuilt(error: GraphQLError, message: str, extensions: dict[str, Any]) -> GraphQLError:
    return GraphQLError(
        message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        original_error=error.original_error,
        extensions=extensions,
    )


class ErrorCodes(SchemaExtension):
    """Rewrites each result's errors once; streamed results are handled one by one."""

    def __init__(self) -> None:
        self._streamed = False

    def on_operation(self) -> Iterator[None]:
        self._streamed = False
        yield
        if not self._streamed:
            _rewrite(self.execution_context.result)

    def on_stream_result(self, result: Any) -> Iterator[None]:
        self._streamed = True
        _rewrite(result)
        yield None


def _rewrite(result: object) -> None:
    errors: list[GraphQLError] | None = getattr(result, "errors", None)
    if errors:
        # Already-translated errors carry a code; the last stream result may come by twice.
        result.errors = [  # type: ignore[attr-defined]
            error if (error.extensions or {}).get("code") else translate(error) for error in errors
        ]


def log_unexpected(errors: list[GraphQLError]) -> None:
    for error in errors:
        if is_internal(error):
            log.error("unhandled error in GraphQL %s", error.path, exc_info=error.original_error)
