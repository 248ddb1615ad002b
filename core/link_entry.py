"""The cached link entry: what a redirector knows about one short code on one domain.

One value, built from the database row and kept in Redis as compact JSON, so a redirector
decides every scan from its cache (docs/links.md has the shape). The compiled policy
(`core.routing.LinkPolicy`) is derived from the options on first use and kept with the entry.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import cached_property
from typing import Any

from core.routing import LinkPolicy, compile_policy


@dataclass(frozen=True)
class LinkOptions:
    """The owner's options as stored (normalized by `core.link_options`)."""

    deleted: bool = False
    paused: bool = False
    expires_at: float | None = None  # epoch seconds
    max_scans: int | None = None
    password_hash: str | None = field(default=None, repr=False)
    forward_query: bool = False
    utm: dict[str, str] | None = None
    rules: list[dict[str, Any]] | None = None
    split: list[dict[str, Any]] | None = None

    def as_json(self) -> dict[str, Any]:
        """Only what differs from a plain link, under the field names."""
        plain = PLAIN
        return {
            name: getattr(self, name)
            for name in self.__dataclass_fields__
            if getattr(self, name) != getattr(plain, name)
        }

    @classmethod
    def from_json(cls, data: Any) -> LinkOptions:
        if not isinstance(data, dict):
            return PLAIN
        known = {name: data[name] for name in cls.__dataclass_fields__ if name in data}
        return cls(**known)


PLAIN = LinkOptions()
_MAX_SERVED = 64


def cache_key(domain: str, short_code: str) -> str:
    """The key of a link everywhere it is cached or announced: "CODE" or "host/CODE"."""
    return f"{domain}/{short_code}" if domain else short_code


def split_key(key: str) -> tuple[str, str]:
    domain, _, code = key.rpartition("/")
    return domain, code


@dataclass(frozen=True)
class LinkTarget:
    qr_id: str
    account_id: str
    short_code: str
    destination: str
    # The row's updated_at in microseconds: two updates published out of order must not
    # leave the older destination in Redis.
    version: int = 0
    domain: str = ""  # "" = the redirect base URL's own domain
    options: LinkOptions = PLAIN
    # Redirects a max_scans link had served when the entry was read (seeds a lost counter).
    taken: int = 0

    @cached_property
    def key(self) -> str:
        return cache_key(self.domain, self.short_code)

    @cached_property
    def identity(self) -> tuple[str, int]:
        """This entry's link and version: what a cached answer about it must match."""
        return self.key, self.version

    def served(self, destination: str) -> LinkTarget:
        """This entry as a scan that went to `destination` records it (a rule's, a
        variant's, "" for none); the few fixed ones are kept, as scans repeat them."""
        if destination == self.destination:
            return self
        kept: dict[str, LinkTarget] | None = self.__dict__.get("_served")
        if kept is None:
            kept = self.__dict__["_served"] = {}
        found = kept.get(destination)
        if found is None:
            found = replace(self, destination=destination)
            if len(kept) < _MAX_SERVED:  # a forwarded query string makes each one new
                kept[destination] = found
        return found

    @cached_property
    def policy(self) -> LinkPolicy | None:
        """None for a plain link: the redirector then asks nothing of the request."""
        options = self.options
        if options is PLAIN:
            return None
        return compile_policy(
            self.destination,
            deleted=options.deleted,
            paused=options.paused,
            expires_at=options.expires_at,
            max_scans=options.max_scans,
            password_hash=options.password_hash,
            forward_query=options.forward_query,
            utm=options.utm,
            rules=options.rules,
            split=options.split,
        )


@dataclass(frozen=True)
class DomainEntry:
    """A verified custom domain, as the redirector needs it: whose orphan scans these are."""

    hostname: str
    account_id: str


def version_of(updated_at: datetime | None) -> int:
    return int(updated_at.timestamp() * 1_000_000) if updated_at else 0


def encode_target(target: LinkTarget) -> str:
    data: dict[str, Any] = {
        "q": target.qr_id,
        "a": target.account_id,
        "c": target.short_code,
        "d": target.destination,
        "v": target.version,
    }
    if target.domain:
        data["h"] = target.domain
    if target.options is not PLAIN:
        data["o"] = target.options.as_json()
    if target.taken:
        data["t"] = target.taken
    return json.dumps(data, separators=(",", ":"))


def decode_target(raw: str | bytes) -> LinkTarget | None:
    try:
        data = json.loads(raw)
        return LinkTarget(
            qr_id=str(data["q"]),
            account_id=str(data["a"]),
            short_code=str(data["c"]),
            destination=str(data["d"]),
            version=int(data.get("v", 0)),
            domain=str(data.get("h", "")),
            options=LinkOptions.from_json(data["o"]) if "o" in data else PLAIN,
            taken=int(data.get("t", 0)),
        )
    except (ValueError, KeyError, TypeError):
        return None
