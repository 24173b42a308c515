"""Password hashing (Argon2id via argon2-cffi) and the per-account slow-down after failed logins."""

from __future__ import annotations

from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()

# A hash of a random password: verifying against it when the user is unknown costs the
# same time as for a real user, so response time does not tell which usernames exist.
_DUMMY_HASH = _hasher.hash("not a password of anyone")

FREE_ATTEMPTS = 3
"""Failed attempts allowed before each further one must wait."""
MAX_DELAY = timedelta(minutes=15)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def retry_delay(failed_logins: int) -> timedelta:
    """How long an account must rest after ``failed_logins`` consecutive failures: doubling, capped."""
    if failed_logins < FREE_ATTEMPTS:
        return timedelta(0)
    # The exponent is bounded so that a long-attacked account's count never overflows timedelta.
    doublings = min(failed_logins - FREE_ATTEMPTS + 1, 32)
    return min(timedelta(seconds=2**doublings), MAX_DELAY)


def locked_until(failed_logins: int, last_failed: datetime | None) -> datetime | None:
    if last_failed is None:
        return None
    delay = retry_delay(failed_logins)
    return last_failed + delay if delay else None
