"""Password hashing with scrypt (stdlib, memory-hard).

Stored as ``scrypt$n$r$p$salt_b64$hash_b64`` so the cost can be raised later
without breaking old hashes: each hash carries its own parameters.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from workbench.errors import InvalidArgument

N, R, P = 2**14, 8, 1
_DKLEN = 32
MIN_LENGTH = 8
MAX_LENGTH = 1024  # scrypt is slow on purpose; don't let a huge body make it slower
# Parameters read back from the database are bounded, so a tampered row cannot make
# one login allocate gigabytes.
_MAX_N, _MAX_R, _MAX_P = 2**17, 16, 4
_dummy: str | None = None


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p, dklen=_DKLEN,
                          maxmem=128 * n * r * p + (1 << 20))


def check_strength(password: str) -> str:
    if not isinstance(password, str) or len(password) < MIN_LENGTH:
        raise InvalidArgument(f"A password needs at least {MIN_LENGTH} characters.")
    if len(password) > MAX_LENGTH:
        raise InvalidArgument(f"A password can have at most {MAX_LENGTH} characters.")
    return password


def hash_password(password: str) -> str:
    """The storable hash of ``password`` (after :func:`check_strength`)."""
    check_strength(password)
    salt = secrets.token_bytes(16)
    return f"scrypt${N}${R}${P}${_b64(salt)}${_b64(_scrypt(password, salt, N, R, P))}"


def verify(encoded: str | None, password: str) -> bool:
    """Whether ``password`` matches ``encoded``; False for a missing or malformed hash.

    Takes as long for a missing hash as for a wrong password, so timing does not
    tell which user names exist.
    """
    global _dummy
    if not isinstance(password, str) or len(password) > MAX_LENGTH:
        return False
    if not encoded:
        _dummy = _dummy or hash_password(secrets.token_urlsafe(16))
        verify(_dummy, password)
        return False
    try:
        scheme, n, r, p, salt, digest = encoded.split("$")
        n_, r_, p_ = int(n), int(r), int(p)
        if scheme != "scrypt" or not (1 < n_ <= _MAX_N and 0 < r_ <= _MAX_R and 0 < p_ <= _MAX_P):
            return False
        expected = base64.b64decode(digest, validate=True)
        actual = _scrypt(password, base64.b64decode(salt, validate=True), n_, r_, p_)
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)
