"""Endpoint signing secrets: generated once, shown once, stored only as Fernet ciphertext.

The Fernet key is derived from QRMINT_SECRET_KEY with HKDF, so the same settings decrypt
what any process of the deployment stored, and the secret key itself is never used raw.
"""

from __future__ import annotations

import base64
import secrets as _random
from functools import lru_cache

from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

SECRET_PREFIX = "whsec_"
_SECRET_BYTES = 32
_HKDF_INFO = b"qrmint webhook secrets"


def new_secret() -> str:
    """`whsec_` + standard base64 of 32 random bytes (the Standard Webhooks form)."""
    return SECRET_PREFIX + base64.b64encode(_random.token_bytes(_SECRET_BYTES)).decode("ascii")


def secret_key_bytes(secret: str) -> bytes:
    """The HMAC key of the Standard Webhooks scheme: the base64 part after `whsec_`, decoded."""
    return base64.b64decode(secret.removeprefix(SECRET_PREFIX))


def encrypt_secret(secret_key: str, secret: str) -> str:
    return _fernet(secret_key).encrypt(secret.encode("utf-8")).decode("ascii")


def decrypt_secret(secret_key: str, ciphertext: str) -> str:
    return _fernet(secret_key).decrypt(ciphertext.encode("ascii")).decode("utf-8")


@lru_cache(maxsize=4)
def _fernet(secret_key: str) -> Fernet:
    # HKDF with a purpose label: this key can't be confused with other keys derived from it.
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_HKDF_INFO).derive(
        secret_key.encode("utf-8")
    )
    return Fernet(base64.urlsafe_b64encode(derived))
