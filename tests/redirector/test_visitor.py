"""Client IP behind proxies, the keyed visitor hash and the signed visitor cookie."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest

from core.config import load_settings
from redirector.visitor import COOKIE_NAME, VisitorIdentifier, client_ip

TRUSTED = (ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("::1/128"))


@pytest.mark.parametrize(
    ("peer", "forwarded", "expected"),
    [
        ("203.0.113.9", ["198.51.100.1"], "203.0.113.9"),  # untrusted peer: header ignored
        ("10.0.0.2", [], "10.0.0.2"),  # trusted peer, no header
        ("10.0.0.2", ["198.51.100.1"], "198.51.100.1"),
        ("10.0.0.2", ["1.1.1.1, 198.51.100.1, 10.0.0.7"], "198.51.100.1"),  # spoofed left part
        ("10.0.0.2", ["1.1.1.1", "198.51.100.1"], "198.51.100.1"),  # several headers
        ("10.0.0.2", ["10.0.0.5, 10.0.0.6"], "10.0.0.5"),  # all trusted: the farthest
        ("10.0.0.2", ["198.51.100.1, garbage, 10.0.0.6"], "10.0.0.6"),  # stop at garbage
        ("::1", ["2001:db8::5"], "2001:db8::5"),
        (None, ["198.51.100.1"], ""),
    ],
)
def test_client_ip(peer: str | None, forwarded: list[str], expected: str) -> None:
    assert client_ip(peer, forwarded, TRUSTED) == expected


def test_no_trusted_proxies_means_the_peer() -> None:
    assert client_ip("10.0.0.2", ["198.51.100.1"], ()) == "10.0.0.2"


def _identifier(tmp_path: Path, base: str = "http://127.0.0.1:8080") -> VisitorIdentifier:
    env = {
        "QRMINT_DATA_DIR": str(tmp_path),
        "QRMINT_SECRET_KEY": "visitor-test-secret-0123456789",
        "QRMINT_REDIRECT_BASE_URL": base,
    }
    return VisitorIdentifier(load_settings(env, env_file="/nonexistent"))


def test_hash_is_keyed_stable_and_hides_the_ip(tmp_path: Path) -> None:
    ids = _identifier(tmp_path)
    first = ids.visitor_hash("198.51.100.1", "UA")
    assert first == ids.visitor_hash("198.51.100.1", "UA")
    assert first != ids.visitor_hash("198.51.100.2", "UA")
    assert first != ids.visitor_hash("198.51.100.1", "UA2")
    assert len(first) == 32
    assert "198" not in first
    int(first, 16)


def test_cookie_round_trip(tmp_path: Path) -> None:
    ids = _identifier(tmp_path)
    fresh = ids.identify(None, "198.51.100.1", "UA")
    assert fresh.is_new_cookie
    header = ids.set_cookie_header(fresh)
    value = header.split(";")[0].removeprefix(f"{COOKIE_NAME}=")
    again = ids.identify(value, "203.0.113.50", "Other UA")  # new IP, same device
    assert again.id == fresh.id
    assert not again.is_new_cookie
    assert "Max-Age=31536000" in header
    assert "HttpOnly" in header
    assert "SameSite=Lax" in header
    assert "Path=/" in header
    assert "Secure" not in header


def test_forged_cookie_is_ignored(tmp_path: Path) -> None:
    ids = _identifier(tmp_path)
    forged = ids.identify("someone-else.AAAA", "198.51.100.1", "UA")
    assert forged.is_new_cookie
    assert forged.id == ids.visitor_hash("198.51.100.1", "UA")


def test_secure_cookie_on_https(tmp_path: Path) -> None:
    ids = _identifier(tmp_path, "https://qr.example")
    assert "; Secure" in ids.set_cookie_header(ids.identify(None, "1.2.3.4", "UA"))
