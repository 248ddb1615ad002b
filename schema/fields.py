"""Typed forms of `@strawberry.field(description=...)` and friends.

With arguments, Strawberry's decorators are typed as returning `Any`, which mypy --strict
refuses on a decorated resolver ("untyped decorator"); its mypy plugin does not help with
that. These wrappers say what they really return, so the roots stay strictly typed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

import strawberry
from strawberry.types.field import StrawberryField

Decorator = Callable[[Callable[..., Any]], StrawberryField]


def field(description: str) -> Decorator:
    return cast(Decorator, strawberry.field(description=description))


def mutation(description: str) -> Decorator:
    return cast(Decorator, strawberry.mutation(description=description))


def subscription(description: str) -> Decorator:
    return cast(Decorator, strawberry.subscription(description=description))
