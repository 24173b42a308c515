"""Password hashing (Argon2id via argon2-cffi) and the per-account slow-down after failed logins."""

from __future__ import annotations

from datetime import datetime, timedelta

from argon2 import Parameters, PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError

PARAMETERS = profiles.RFC_9106_LOW_MEMORY
"""Argon2id as argon2-cffi recommends (its own defaults): the cost of every new hash."""


def use_parameters(parameters: Parameters) -> None:
    """Hash new passwords with ``parameters`` from now on (the test suite takes the cheapest).

    A stored hash is always verified with the parameters written in it. The dummy hash is made
    again with the new ones, so that an unknown user still costs what a known one does.
    """
    global _hasher, _DUMMY_HASH
    _hasher = PasswordHasher.from_parameters(parameters)
    # A hash of a random password: verifying against it when the user is unknown costs the
    # same time as for a real user, so response time does not tell which usernames exist.
    _DUMMY_HASH = _hasher.hash("not a password of anyone")


_hasher: PasswordHasher
_DUMMY_HASH: str
use_parameters(PARAMETERS)

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
