"""The dynamic link options as declared models (pydantic), shared by generate and PATCH.

Structure only (types, unknown fields, enums); what the values mean (URLs, countries, time
zones, tier limits) is `core.link_options`'s to check. A field left out of a request is
absent from `model_fields_set`: PATCH changes only what was sent, and `null` removes.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Device = Literal["mobile", "tablet", "desktop", "bot", "unknown"]
System = Literal["android", "ios", "windows", "macos", "linux", "chromeos", "other"]
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]

# The option fields, in the order documented (docs/links.md).
LINK_FIELDS = (
    "paused",
    "expires_at",
    "max_scans",
    "password",
    "forward_query",
    "utm",
    "rules",
    "split",
)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, populate_by_name=True)


class TimeWindowBody(_Strict):
    from_: str | None = Field(None, alias="from", description="HH:MM, local time, inclusive")
    to: str | None = Field(None, description="HH:MM, exclusive; before `from` wraps midnight")
    days: list[Weekday] | None = None
    tz: str = Field("UTC", description="IANA time zone, e.g. Europe/Berlin")


class ConditionsBody(_Strict):
    country: list[str] | None = Field(None, description="ISO 3166-1 alpha-2 codes")
    device: list[Device] | None = None
    os: list[System] | None = None
    language: list[str] | None = Field(None, description="language tags: de, en-US")
    time: TimeWindowBody | None = None


class RuleBody(_Strict):
    if_: ConditionsBody = Field(alias="if")
    destination: str


class VariantBody(_Strict):
    destination: str
    weight: int = Field(ge=1, le=10_000)


class UtmBody(_Strict):
    source: str | None = None
    medium: str | None = None
    campaign: str | None = None
    term: str | None = None
    content: str | None = None


class LinkFields(_Strict):
    paused: bool = False
    expires_at: str | None = Field(None, description="ISO 8601 instant; null: never")
    max_scans: int | None = Field(None, ge=1, le=1_000_000_000)
    password: str | None = Field(None, description="write-only; null removes it")
    forward_query: bool = False
    utm: UtmBody | None = None
    rules: list[RuleBody] | None = None
    split: list[VariantBody] | None = None

    def link_changes(self) -> dict[str, Any]:
        """The option fields this request sent, as plain JSON values (aliases as sent)."""
        sent = self.model_fields_set & set(LINK_FIELDS)
        dumped = self.model_dump(include=sent, by_alias=True, exclude_none=False)
        return {name: _pruned(dumped[name]) for name in LINK_FIELDS if name in sent}


def _pruned(value: Any) -> Any:
    """Nested nulls mean "not given": drop them so stored JSON holds only what was said."""
    if isinstance(value, dict):
        return {key: _pruned(item) for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [_pruned(item) for item in value]
    return value


class UpdateBody(LinkFields):
    """PATCH /qr/{id}: only what is sent changes; `null` removes an option (docs/links.md)."""

    destination: str | None = None
    name: str | None = None

    def changes(self) -> dict[str, Any]:
        sent = {name: getattr(self, name) for name in ("destination", "name")}
        return {
            **{name: value for name, value in sent.items() if name in self.model_fields_set},
            **self.link_changes(),
        }
