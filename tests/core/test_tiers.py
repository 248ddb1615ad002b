"""The tier table and its TOML override."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.config import ConfigError
from core.tiers import load_tiers


def test_contract_table() -> None:
    tiers = load_tiers()
    assert [t.dynamic_qr_limit for t in tiers.values()] == [5, 100, 1000, 10000]
    assert [t.generations_per_month for t in tiers.values()] == [500, 10_000, 100_000, 1_000_000]
    assert [t.retention_days for t in tiers.values()] == [0, 30, 90, 365]
    assert [t.bulk for t in tiers.values()] == [False, False, True, True]
    assert tiers["mega"].webhooks
    assert tiers["mega"].max_webhook_endpoints == 5
    assert not tiers["basic"].has_analytics
    assert {t.rate_per_second for t in tiers.values()} == {10}


def test_override_changes_only_named_fields(tmp_path: Path) -> None:
    path = tmp_path / "tiers.toml"
    path.write_text("[pro]\nrate_per_second = 50\n")
    tiers = load_tiers(path)
    assert tiers["pro"].rate_per_second == 50
    assert tiers["pro"].dynamic_qr_limit == 100


@pytest.mark.parametrize(
    "text",
    [
        "[gold]\nbulk = true\n",
        "[pro]\nspeed = 3\n",
        "[pro]\nbulk = 3\n",
        "[pro",
        "[pro]\nrate_per_second = 0\n",
        "[mega]\nretention_days = -1\n",
    ],
)
def test_bad_override_is_a_config_error(tmp_path: Path, text: str) -> None:
    path = tmp_path / "tiers.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match="QRMINT_TIERS_FILE"):
        load_tiers(path)
