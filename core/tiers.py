"""The tier table as data: defaults in tiers.toml, optionally overridden by QRMINT_TIERS_FILE."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from core.config import ConfigError

TIER_NAMES = ("basic", "pro", "ultra", "mega")
_DEFAULTS = Path(__file__).with_name("tiers.toml")


@dataclass(frozen=True)
class Tier:
    name: str
    rate_per_second: int
    dynamic_qr_limit: int
    generations_per_month: int
    bulk: bool
    retention_days: int
    webhooks: bool
    max_webhook_endpoints: int
    passwords: bool = False
    max_rules: int = 0
    max_split_variants: int = 0
    max_domains: int = 0

    @property
    def has_analytics(self) -> bool:
        return self.retention_days > 0


Tiers = dict[str, Tier]


def load_tiers(override: Path | None = None) -> Tiers:
    table = _read(_DEFAULTS)
    if override is not None:
        for name, values in _read(override).items():
            if name not in table:
                names = ", ".join(TIER_NAMES)
                raise ConfigError(f"QRMINT_TIERS_FILE: unknown tier {name!r}; expected {names}")
            table[name] = {**table[name], **values}
    return {name: _build(name, values) for name, values in table.items()}


def _read(path: Path) -> dict[str, dict[str, Any]]:
    try:
        return tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"QRMINT_TIERS_FILE: cannot read {path}: {exc}") from None


def _build(name: str, values: dict[str, Any]) -> Tier:
    known = {f.name: f.type for f in fields(Tier) if f.name != "name"}
    unknown = set(values) - set(known)
    if unknown:
        raise ConfigError(f"QRMINT_TIERS_FILE: tier {name!r} has unknown fields {sorted(unknown)}")
    for key, value in values.items():
        expected = bool if known[key] == "bool" else int
        if type(value) is not expected:
            raise ConfigError(
                f"QRMINT_TIERS_FILE: {name}.{key} is {value!r}; expected {expected.__name__}"
            )
        if expected is int and value < (1 if key == "rate_per_second" else 0):
            raise ConfigError(
                f"QRMINT_TIERS_FILE: {name}.{key} is {value}; it must not be that low"
            )
    return Tier(name=name, **values)
