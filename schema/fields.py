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


class _ChargedMutation(FieldExtension):
    """Each mutation field after the first in one request spends a rate-limit token, so
    aliases (`a: generateQr(...) b: generateQr(...)`) cannot multiply the key's budget."""

    def resolve(self, next_: Callable[..., Any], source: Any, info: Info, **kwargs: Any) -> Any:
        raise NotImplementedError("mutations here are async")

    async def resolve_async(
        self, next_: Callable[..., Awaitable[Any]], source: Any, info: Info, **kwargs: Any
    ) -> Any:
        await info.context.charge_mutation()
        return await next_(source, info, **kwargs)


def mutation(description: str) -> Decorator:
    return cast(
        Decorator, strawberry.mutation(description=description, extensions=[_ChargedMutation()])
    )


def subscription(description: str) -> Decorator:
    return cast(Decorator, strawberry.subscription(description=description))
