"""The schema object: roots, abuse limits and the one error translation."""

from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import MaxAliasesLimiter, MaxTokensLimiter, QueryDepthLimiter
from strawberry.schema.config import StrawberryConfig
from strawberry.schema.schema import DEFAULT_ALLOWED_OPERATION_TYPES
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType

from core.timestamps import iso
from schema.errors import ErrorCodes, log_unexpected
from schema.mutation import Mutation
from schema.query import Query
from schema.subscription import Subscription

MAX_DEPTH = 10
MAX_ALIASES = 15
# Counted on the document only: big values (logos, bulk items) belong in variables.
MAX_TOKENS = 2000


class QrmintSchema(strawberry.Schema):
    async def execute(self, *args: Any, **kwargs: Any) -> ExecutionResult:
        """HTTP's entry point: queries and mutations only. Subscriptions run through
        `subscribe` (WebSocket); over HTTP one is a client error (schema.refusals)."""
        allowed = kwargs.get("allowed_operation_types") or DEFAULT_ALLOWED_OPERATION_TYPES
        kwargs["allowed_operation_types"] = set(allowed) - {OperationType.SUBSCRIPTION}
        return await super().execute(*args, **kwargs)

    def process_errors(self, errors: list[GraphQLError], execution_context: Any = None) -> None:
        # Refusals (bad input, not_found, ...) are answers, not incidents: log only our bugs.
        log_unexpected(errors)


# The same instants as REST prints them (UTC, `Z`), rather than Python's `+00:00`.
DateTimeZ = strawberry.scalar(
    name="DateTime",
    description="Date with time (ISO 8601, UTC, Z suffix)",
    serialize=iso,
    parse_value=datetime.fromisoformat,
)

schema = QrmintSchema(
    config=StrawberryConfig(scalar_map={datetime: DateTimeZ}),
    query=Query,
    mutation=Mutation,
    subscription=Subscription,
    extensions=[
        # Factories, not instances: each operation gets its own extension objects.
        partial(MaxTokensLimiter, max_token_count=MAX_TOKENS),
        partial(QueryDepthLimiter, max_depth=MAX_DEPTH),
        partial(MaxAliasesLimiter, max_alias_count=MAX_ALIASES),
        ErrorCodes,
    ],
)
