"""The one error type of the rendering core, shaped like the contract's 422 body."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

ErrorCode = Literal["validation_error", "data_too_long", "low_contrast", "logo_too_large"]


@dataclass(frozen=True, slots=True)
class FieldIssue:
    """One problem with one input field, named by its dotted path (``style.dots.color``)."""

    field: str
    message: str


class RenderError(Exception):
    """Raised for any request the renderer refuses; ``details`` lists every field at fault."""

    def __init__(self, code: ErrorCode, message: str, details: Iterable[FieldIssue] = ()) -> None:
        super().__init__(message)
        self.code: ErrorCode = code
        self.message = message
        self.details: tuple[FieldIssue, ...] = tuple(details)

    @classmethod
    def from_issues(cls, code: ErrorCode, issues: Iterable[FieldIssue]) -> RenderError:
        found = tuple(issues)
        if len(found) == 1:
            return cls(code, found[0].message, found)
        names = ", ".join(issue.field for issue in found)
        return cls(code, f"{len(found)} fields are invalid: {names}.", found)

    def __repr__(self) -> str:
        return f"RenderError({self.code!r}, {self.message!r}, {self.details!r})"


class Issues:
    """Collects field issues so a request is refused once, with all its problems."""

    def __init__(self) -> None:
        self.found: list[FieldIssue] = []

    def add(self, field: str, message: str) -> None:
        self.found.append(FieldIssue(field, message))

    def raise_if_any(self, code: ErrorCode = "validation_error") -> None:
        if self.found:
            raise RenderError.from_issues(code, self.found)
