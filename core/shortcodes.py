"""Short codes: random, unguessable, URL-safe; uniqueness is enforced by the database."""

from __future__ import annotations

import re
import secrets

_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789"  # no look-alikes
LENGTH = 8  # 57^8 ≈ 1.1e14 codes: guessing a live one is hopeless at any rate limit
SHORT_CODE_RE = re.compile(r"^[A-Za-z0-9_-]{7,16}$")


def new_short_code() -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(LENGTH))


def short_url(base_url: str, code: str, domain: str = "") -> str:
    """On a custom domain the link keeps the base URL's scheme, on the domain's default port."""
    if domain:
        scheme = base_url.partition("://")[0]
        return f"{scheme}://{domain}/{code}"
    return f"{base_url}/{code}"
