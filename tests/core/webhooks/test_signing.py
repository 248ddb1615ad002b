from __future__ import annotations

import base64
import hashlib
import hmac
import json

import pytest
from cryptography.fernet import InvalidToken
from standardwebhooks import Webhook

from core.webhooks.secrets import decrypt_secret, encrypt_secret, new_secret
from core.webhooks.signing import signed_headers, verify_signature

BODY = json.dumps({"id": "evt_1", "type": "qr.scanned", "data": {"city": "Zürich"}}).encode()
NOW = 1_790_000_000


def test_secret_shape():
    secret = new_secret()
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"))) == 32
    assert new_secret() != secret


def test_encryption_round_trip_and_key_separation():
    secret = new_secret()
    token = encrypt_secret("k" * 32, secret)
    assert secret not in token
    assert decrypt_secret("k" * 32, token) == secret
    with pytest.raises(InvalidToken):
        decrypt_secret("other-key-" * 4, token)


def test_headers_match_the_contract():
    secret = new_secret()
    headers = signed_headers(secret, "evt_abc", NOW, BODY)
    assert headers["Content-Type"] == "application/json"
    assert headers["X-Qrmint-Event-Id"] == headers["webhook-id"] == "evt_abc"
    assert headers["webhook-timestamp"] == str(NOW)
    expected = hmac.new(secret.encode(), f"{NOW}.".encode() + BODY, hashlib.sha256).hexdigest()
    assert headers["X-Qrmint-Signature"] == f"t={NOW},v1={expected}"
    key = base64.b64decode(secret.removeprefix("whsec_"))
    raw = hmac.new(key, b"evt_abc." + str(NOW).encode() + b"." + BODY, hashlib.sha256).digest()
    assert headers["webhook-signature"] == "v1," + base64.b64encode(raw).decode()


def test_standardwebhooks_library_verifies_our_headers():
    import time

    secret = new_secret()
    now = int(time.time())
    headers = signed_headers(secret, "evt_abc", now, BODY)
    lower = {name.lower(): value for name, value in headers.items()}
    assert Webhook(secret).verify(BODY, lower) == json.loads(BODY)


def test_verify_signature():
    secret = new_secret()
    header = signed_headers(secret, "evt_abc", NOW, BODY)["X-Qrmint-Signature"]
    assert verify_signature(secret, header, BODY, now=NOW + 10)
    assert not verify_signature(secret, header, BODY + b" ", now=NOW)
    assert not verify_signature(new_secret(), header, BODY, now=NOW)
    assert not verify_signature(secret, header, BODY, now=NOW + 301)
    assert verify_signature(secret, header, BODY, now=NOW + 3000, tolerance=3600)
    assert not verify_signature(secret, "garbage", BODY, now=NOW)
    rotated = header.replace("v1=", "v1=deadbeef,v1=")
    assert verify_signature(secret, rotated, BODY, now=NOW)
