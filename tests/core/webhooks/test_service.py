from __future__ import annotations

import asyncio
import logging

import pytest

from core.errors import Conflict, Invalid, NotFound, NotInTier
from core.models import ScanEndpoint
from core.tiers import load_tiers
from core.webhooks import delete_endpoint, list_endpoints, register_endpoint
from core.webhooks.secrets import decrypt_secret

from .conftest import FakeResolver, new_account

TIERS = load_tiers()
URL = "https://hooks.test/scan"


async def test_register_returns_secret_once_and_stores_it_encrypted(db, resolver):
    account = await new_account()
    registered = await register_endpoint(
        db, TIERS["mega"], account, URL, "crm sync", resolver=resolver
    )
    assert registered.secret.startswith("whsec_")
    assert registered.secret not in repr(registered)
    row = await ScanEndpoint.get(id=registered.id)
    assert registered.secret not in row.secret_ciphertext
    assert decrypt_secret(db.secret_key, row.secret_ciphertext) == registered.secret
    views = await list_endpoints(account)
    assert [v.id for v in views] == [registered.id]
    assert views[0].url == URL
    assert views[0].description == "crm sync"
    assert views[0].disabled is False
    assert views[0].disabled_at is None
    assert registered.secret not in repr(views)


@pytest.mark.parametrize("tier", ["basic", "pro", "ultra"])
async def test_lower_tiers_are_refused(db, resolver, tier):
    account = await new_account(tier)
    with pytest.raises(NotInTier) as info:
        await register_endpoint(db, TIERS[tier], account, URL, None, resolver=resolver)
    assert info.value.code == "tier_required"
    assert info.value.status == 403


async def test_sixth_endpoint_is_a_conflict(db, resolver):
    account = await new_account()
    for _ in range(5):
        await register_endpoint(db, TIERS["mega"], account, URL, None, resolver=resolver)
    with pytest.raises(Conflict) as info:
        await register_endpoint(db, TIERS["mega"], account, URL, None, resolver=resolver)
    assert info.value.code == "endpoint_limit"
    assert info.value.status == 409


async def test_concurrent_registrations_stop_at_the_limit(db, resolver):
    account = await new_account()
    tier = TIERS["mega"]
    results = await asyncio.gather(
        *(register_endpoint(db, tier, account, URL, None, resolver=resolver) for _ in range(10)),
        return_exceptions=True,
    )
    assert sum(not isinstance(r, BaseException) for r in results) == 5
    assert all(isinstance(r, Conflict) for r in results if isinstance(r, BaseException))
    assert await ScanEndpoint.filter(account_id=account).count() == 5


async def test_deleting_frees_a_slot(db, resolver):
    account = await new_account()
    ids = [
        (await register_endpoint(db, TIERS["mega"], account, URL, None, resolver=resolver)).id
        for _ in range(5)
    ]
    await delete_endpoint(account, ids[2])
    await register_endpoint(db, TIERS["mega"], account, URL, None, resolver=resolver)
    assert len(await list_endpoints(account)) == 5


async def test_delete_someone_elses_or_unknown_is_not_found(db, resolver):
    owner, other = await new_account(), await new_account()
    registered = await register_endpoint(db, TIERS["mega"], owner, URL, None, resolver=resolver)
    with pytest.raises(NotFound):
        await delete_endpoint(other, registered.id)
    with pytest.raises(NotFound):
        await delete_endpoint(owner, "wep_unknown")
    assert len(await list_endpoints(owner)) == 1
    assert await list_endpoints(other) == []


async def test_description_over_500_is_invalid(db, resolver):
    account = await new_account()
    with pytest.raises(Invalid) as info:
        await register_endpoint(db, TIERS["mega"], account, URL, "x" * 501, resolver=resolver)
    assert info.value.details[0].field == "description"


async def test_unsafe_url_refused_at_registration(settings, tmp_path):
    from .conftest import make_settings

    strict = make_settings(tmp_path)  # webhook_allow_private is off
    with pytest.raises(Invalid) as info:
        await register_endpoint(
            strict, TIERS["mega"], "acc_x", "https://internal.test/",
            None, resolver=FakeResolver({"internal.test": ["10.1.2.3"]}),
        )  # fmt: skip
    assert info.value.code == "unsafe_url"
    assert info.value.status == 422
    assert info.value.details[0].field == "url"


async def test_secret_never_logged(db, resolver, caplog):
    caplog.set_level(logging.DEBUG)
    account = await new_account()
    registered = await register_endpoint(db, TIERS["mega"], account, URL, None, resolver=resolver)
    await list_endpoints(account)
    assert registered.secret not in caplog.text
