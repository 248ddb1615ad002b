"""The repository documents itself: every setting the code reads is in docs/configuration.md,
every metric in docs/operations.md, and no document points outside the repository."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ops.metrics import FAMILIES

REPO = Path(__file__).resolve().parents[1]
SOURCES = ("core", "api", "schema", "redirector", "analytics", "qrmint", "ops", "render")
DOCS = sorted((REPO / "docs").glob("*.md"))


def _variables_read_by_the_code() -> set[str]:
    found: set[str] = set()
    for package in SOURCES:
        for path in (REPO / package).rglob("*.py"):
            found |= set(re.findall(r"\"(QRMINT_[A-Z_]+)\"", path.read_text()))
    return found


def test_every_setting_is_documented() -> None:
    documented = (REPO / "docs" / "configuration.md").read_text()
    variables = _variables_read_by_the_code()
    assert len(variables) >= 15
    missing = sorted(name for name in variables if f"`{name}`" not in documented)
    assert not missing, f"docs/configuration.md lacks {missing}"


def test_every_metric_is_documented() -> None:
    documented = (REPO / "docs" / "operations.md").read_text()
    missing = sorted(name for name in FAMILIES if f"`{name}`" not in documented)
    assert not missing, f"docs/operations.md lacks {missing}"


@pytest.mark.parametrize("path", [*DOCS, REPO / "README.md"], ids=lambda path: path.name)
def test_documents_link_only_inside_the_repository(path: Path) -> None:
    text = path.read_text()
    assert "CONTRACT" not in text
    for target in re.findall(r"\]\(([^)#\s]+)", text):
        assert not target.startswith(("http://", "https://")), target
        assert (path.parent / target).resolve().exists(), f"{path.name} links to {target}"
