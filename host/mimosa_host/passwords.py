"""Password hashing (Argon2id via argon2-cffi); the slow-down after failed sign-ins is :mod:`throttle`'s."""

from __future__ import annotations

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


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False
