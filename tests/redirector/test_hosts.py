"""Which domain a Host header names."""

from __future__ import annotations

import pytest

from redirector.hosts import HostRouter, hostname


@pytest.mark.parametrize(
    ("base", "host", "domain"),
    [
        ("https://qr.example", "qr.example", ""),
        ("https://qr.example", "QR.Example.:443", ""),
        ("https://qr.example", "127.0.0.1:8080", ""),  # a proxy forwarding by address
        ("https://qr.example", "[::1]:8080", ""),
        ("https://qr.example", "localhost", ""),
        ("https://qr.example", "10.1.2.3", ""),
        ("https://qr.example", "go.brand.example", "go.brand.example"),
        ("https://qr.example", "Go.Brand.Example:8080", "go.brand.example"),
        ("http://127.0.0.1:8080", "127.0.0.1:9999", ""),
        ("http://127.0.0.1:8080", "qr.example", "qr.example"),
    ],
)
def test_domain_of(base: str, host: str, domain: str) -> None:
    assert HostRouter(base).domain_of(host) == domain


def test_hostname() -> None:
    assert hostname(" Go.Example.:80 ") == "go.example"
    assert hostname("[2001:db8::1]:443") == "2001:db8::1"
    assert hostname("2001:db8::1") == "2001:db8::1"
