"""Small readers for JSON-ish input values that record an issue instead of raising."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from render.errors import Issues


def describe(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, list | tuple):
        return "a list"
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def read_object(
    raw: object, path: str, keys: Sequence[str], issues: Issues
) -> Mapping[str, object] | None:
    """The mapping, or None when absent/null or wrong; unknown keys are issues."""
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        issues.add(path, f"{path} is {describe(raw)}; expected an object.")
        return None
    for key in raw:
        if key not in keys:
            expected = ", ".join(keys)
            issues.add(f"{path}.{key}", f"{path}.{key} is not a known field; expected {expected}.")
    return raw


def read_choice(raw: object, path: str, choices: Sequence[str], issues: Issues) -> str | None:
    if isinstance(raw, str) and raw in choices:
        return raw
    issues.add(path, f"{path} is {describe(raw)}; expected one of {', '.join(choices)}.")
    return None


def as_number(raw: object) -> float | None:
    """A finite JSON number as float; None for anything else (booleans included)."""
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        return None
    try:
        value = float(raw)
    except OverflowError:
        return None
    return value if math.isfinite(value) else None


def read_number(
    raw: object, path: str, issues: Issues, low: float, high: float, *, open_low: bool = False
) -> float | None:
    value = as_number(raw)
    if value is not None and (low < value if open_low else low <= value) and value <= high:
        return value
    bound = f"greater than {low:g}" if open_low else f"at least {low:g}"
    issues.add(path, f"{path} is {describe(raw)}; expected a number {bound} and at most {high:g}.")
    return None


def read_int(raw: object, path: str, issues: Issues, low: int, high: int) -> int | None:
    value = as_number(raw)
    if value is not None and value.is_integer() and low <= value <= high:
        return int(value)
    issues.add(path, f"{path} is {describe(raw)}; expected an integer from {low} to {high}.")
    return None


def read_bool(raw: object, path: str, issues: Issues) -> bool | None:
    if isinstance(raw, bool):
        return raw
    issues.add(path, f"{path} is {describe(raw)}; expected true or false.")
    return None
