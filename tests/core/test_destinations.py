"""Destination URLs: http(s) only, no credentials, bounded length."""

from __future__ import annotations

import pytest

from core.destinations import check_destination
from core.errors import Invalid


@pytest.mark.parametrize(
    "url", ["https://shop.example/a?b=c#d", "http://127.0.0.1:8000/x", "HTTPS://UPPER.example"]
)
def test_accepted(url: str) -> None:
    assert check_destination(url, "url") == url


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        "data:text/html;base64,AAAA",
        "vbscript:x",
        "file:///etc/passwd",
        "https://user:pass@host.example/",
        "https://user@host.example/",
        "https://",
        "https://host.example:99999/",
        "https://host .example/",
        "https://host.example/\nSet-Cookie: x",
        "https://e.example/" + "a" * 2040,
        "",
        None,
        42,
    ],
)
def test_refused_as_unsafe_url(url: object) -> None:
    with pytest.raises(Invalid) as caught:
        check_destination(url, "url")
    assert caught.value.code == "unsafe_url"
    assert caught.value.details[0].field == "url"
