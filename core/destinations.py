"""Which URLs may be a dynamic QR's destination: http(s), no credentials, ≤ 2048 chars."""

from __future__ import annotations

from urllib.parse import urlsplit

from core.errors import invalid_field

MAX_URL_LENGTH = 2048


def storable_text_problem(value: str) -> str | None:
    """Text every store can keep: Postgres refuses NUL; UTF-8 cannot carry lone surrogates."""
    if "\x00" in value:
        return "contains a NUL character (U+0000)"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "contains an unpaired UTF-16 surrogate, which is not valid Unicode text"
    return None


def check_destination(url: object, field: str) -> str:
    if not isinstance(url, str) or not url.strip():
        raise invalid_field(field, "Expected a non-empty http or https URL.", code="unsafe_url")
    url = url.strip()
    if len(url) > MAX_URL_LENGTH:
        raise invalid_field(
            field,
            f"The URL has {len(url)} characters; at most {MAX_URL_LENGTH} are allowed.",
            code="unsafe_url",
        )
    problem = _problem(url)
    if problem:
        raise invalid_field(field, problem, code="unsafe_url")
    return url


def _problem(url: str) -> str | None:
    text_problem = storable_text_problem(url)
    if text_problem:
        return f"The URL {text_problem}."
    if any(ch.isspace() or ord(ch) < 32 for ch in url):
        return "The URL contains whitespace or control characters."
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  (raises on a malformed port)
    except ValueError:
        return f"{url[:80]!r} is not a valid URL."
    if parts.scheme.lower() not in ("http", "https"):
        return f"Scheme {parts.scheme or '(none)'!r} is not allowed; expected http or https."
    if not parts.hostname:
        return "The URL has no host."
    if parts.username is not None or parts.password is not None:
        return "The URL must not carry credentials (user:password@)."
    return None
