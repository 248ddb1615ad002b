"""Typed forms of `@strawberry.field(description=...)` and friends.

With arguments, Strawberry's decorators are typed as returning `Any`, which mypy --strict
refuses on a decorated resolver ("untyped decorator"); its mypy plugin does not help with
that. These wrappers say what they really return, so the roots stay strictly typed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, cast

import strawberry
from strawberry.extensions import FieldExtension
from strawberry.types import Info
from strawberry.types.field import StrawberryField

Decorator = Callable[[Callable[..., Any]], StrawberryField]


def field(description: str) -> Decorator:
    return cast(Decorator, strawberry.field(description=description))


class _Charged(FieldExtension):
    """A field that renders, reads statistics or writes costs one rate-limit token
    (`GraphQLContext.charge`), so aliases (`a: qrStats(...) b: qrStats(...)`) cannot
    multiply the work one token buys. Refused, it fails alone: its type is nullable."""

    def resolve(self, next_: Callable[..., Any], source: Any, info: Info, **kwargs: Any) -> Any:
        raise NotImplementedError("mutations here are async")

    async def resolve_async(
        self, next_: Callable[..., Awaitable[Any]], source: Any, info: Info, **kwargs: Any
    ) -> Any:
        await info.context.charge()
        return await next_(source, info, **kwargs)


def charged(description: str) -> Decorator:
    """A query field with a cost (renders or reads statistics)."""
    return cast(Decorator, strawberry.field(description=description, extensions=[_Charged()]))


def mutation(description: str) -> Decorator:
    """Every mutation writes, so every mutation is charged."""
    return cast(Decorator, strawberry.mutation(description=description, extensions=[_Charged()]))


def subscription(description: str) -> Decorator:
    return cast(Decorator, strawberry.subscription(description=description))
