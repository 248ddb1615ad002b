from __future__ import annotations

import pytest

from core.errors import Invalid
from core.webhooks.ssrf import check_url

from .conftest import FakeResolver

BAD_ADDRESSES = [
    "127.0.0.1", "127.255.255.254", "10.0.0.1", "172.16.0.1", "172.31.255.255",
    "192.168.1.1", "169.254.169.254", "169.254.1.1", "100.64.0.1", "100.127.255.254",
    "0.0.0.0", "224.0.0.251", "239.255.255.250", "240.0.0.1", "255.255.255.255",
    "198.18.0.1", "192.0.0.8",
    "::1", "::", "fc00::1", "fd12:3456::1", "fe80::1", "ff02::1",
    "::ffff:127.0.0.1", "::ffff:10.0.0.1", "::ffff:169.254.169.254",
    "2002:7f00:1::1", "2002:c0a8:101::1", "64:ff9b::a9fe:a9fe", "64:ff9b::7f00:1",
]  # fmt: skip


def _bracket(address: str) -> str:
    return f"[{address}]" if ":" in address else address


@pytest.mark.parametrize("address", BAD_ADDRESSES)
async def test_literal_bad_addresses_refused(address):
    with pytest.raises(Invalid) as info:
        await check_url(f"https://{_bracket(address)}/hook", allow_private=False)
    assert info.value.code == "unsafe_url"
    assert info.value.details[0].field == "url"


@pytest.mark.parametrize("address", BAD_ADDRESSES)
async def test_hostnames_resolving_to_bad_addresses_refused(address):
    resolver = FakeResolver({"evil.test": [address]})
    with pytest.raises(Invalid) as info:
        await check_url("https://evil.test/hook", allow_private=False, resolver=resolver)
    assert info.value.code == "unsafe_url"


async def test_every_address_is_checked_not_just_the_first():
    resolver = FakeResolver({"mixed.test": ["93.184.216.34", "10.0.0.7"]})
    with pytest.raises(Invalid):
        await check_url("https://mixed.test/", allow_private=False, resolver=resolver)


@pytest.mark.parametrize(
    "url",
    [
        "https://2130706433/",  # 127.0.0.1 in decimal
        "https://0177.0.0.1/",  # octal
        "https://0x7f.0.0.1/",  # hex
        "https://0x7f000001/",
        "https://127.1/",  # short form
        "https://017700000001/",
        "https://10.1/",
    ],
)
async def test_odd_numeric_hosts_refused_even_with_allow_private(url):
    for allow_private in (False, True):
        with pytest.raises(Invalid) as info:
            await check_url(url, allow_private=allow_private, resolver=FakeResolver())
        assert info.value.code == "unsafe_url"


@pytest.mark.parametrize(
    "url",
    [
        "http://example.com/hook",
        "ftp://example.com/",
        "https://user:pass@example.com/",
        "https://user@example.com/",
        "https:///nohost",
        "https://example.com:99999/",
        "https://exa mple.com/",
        "https://example.com/\n",
        "https://example.com/" + "a" * 2048,
        "javascript:alert(1)",
        "",
    ],
)
async def test_bad_syntax_refused(url):
    resolver = FakeResolver({"example.com": ["93.184.216.34"]})
    with pytest.raises(Invalid) as info:
        await check_url(url, allow_private=True, resolver=resolver)
    assert info.value.code == "unsafe_url"


async def test_unresolvable_host_refused():
    with pytest.raises(Invalid):
        await check_url("https://nowhere.test/", allow_private=False, resolver=FakeResolver())


async def test_public_addresses_accepted():
    resolver = FakeResolver({"example.com": ["93.184.216.34", "2606:2800:220:1::1"]})
    target = await check_url(
        "https://Example.com:8443/hook?x=1", allow_private=False, resolver=resolver
    )
    assert target.host == "example.com"
    assert target.port == 8443
    assert target.addresses == ("93.184.216.34", "2606:2800:220:1::1")
    literal = await check_url("https://[2606:4700::1111]/", allow_private=False)
    assert literal.addresses == ("2606:4700::1111",)


async def test_url_of_exactly_2048_characters_is_accepted():
    url = "https://example.com/"
    url += "a" * (2048 - len(url))
    resolver = FakeResolver({"example.com": ["93.184.216.34"]})
    assert (await check_url(url, allow_private=False, resolver=resolver)).url == url


async def test_allow_private_skips_only_the_address_check():
    resolver = FakeResolver({"intranet.test": ["10.0.0.5"]})
    target = await check_url("https://intranet.test/", allow_private=True, resolver=resolver)
    assert target.addresses == ("10.0.0.5",)
    with pytest.raises(Invalid):
        await check_url("http://intranet.test/", allow_private=True, resolver=resolver)
