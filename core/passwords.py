"""Link passwords: scrypt (RFC 7914) from the standard library, never kept in clear.

A hash is `scrypt$<log2 N>$<r>$<p>$<salt b64>$<key b64>`; the parameters travel with it,
so stronger settings later still verify older hashes. N = 2^14, r = 8, p = 1 costs ~16 MiB
and a few tens of milliseconds: callers on an event loop run `verify` in a worker thread,
and the redirector rate-limits attempts before it ever calls it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

_LOG_N, _R, _P = 14, 8, 1
_KEY_BYTES = 32
_MAX_MEMORY = 64 * 1024 * 1024
MIN_LENGTH, MAX_LENGTH = 4, 128


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    key = _derive(password, salt, _LOG_N, _R, _P)
    return f"scrypt${_LOG_N}${_R}${_P}${_b64(salt)}${_b64(key)}"


def verify_password(password: str, encoded: str) -> bool:
    try:
        scheme, log_n, r, p, salt, key = encoded.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(key)
        derived = _derive(password, base64.b64decode(salt), int(log_n), int(r), int(p))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(derived, expected)


def _derive(password: str, salt: bytes, log_n: int, r: int, p: int) -> bytes:
    if not 10 <= log_n <= 20 or not 1 <= r <= 16 or not 1 <= p <= 4:
        raise ValueError("scrypt parameters out of range")
    return hashlib.scrypt(
        password.encode()[: MAX_LENGTH * 4],
        salt=salt,
        n=1 << log_n,
        r=r,
        p=p,
        maxmem=_MAX_MEMORY,
        dklen=_KEY_BYTES,
    )


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()
