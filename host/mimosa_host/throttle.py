"""Sign-in throttling per client address (OWASP ASVS 5.0 V6): failures slow down the address they come from.

Two counters weigh each attempt, both kept in ``sign_in_throttle``:

- the address's count for that account and step (the password, or the second factor's code):
  :data:`FREE_PER_ACCOUNT` failures are free, then each further attempt waits a doubling rest;
- the address's count across every account: :data:`FREE_PER_ADDRESS` failures are free, then the
  address rests for every account the same way (one address guessing many accounts' passwords).

The owner signing in from another address meets neither: no failure from elsewhere can lock an
account. A counter is forgotten :data:`FORGET_AFTER` after its last failure.

Each attempt that is not turned away claims its place first: both counters count it as a failure, in
a committed transaction, before the secret is checked; a success then gives the claim back. Parallel
attempts cannot slip past a rest: past the free failures, an attempt whose claim finds a counter moved
since it was read (another attempt is in flight) is refused, unchecked.
"""

from __future__ import annotations

import ipaddress
import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from .models import SignInThrottle

FREE_PER_ACCOUNT = 3
"""Failures of one account and step from one address before each further attempt must wait."""
FREE_PER_ADDRESS = 20
"""Failures from one address, all accounts together, before every attempt from it must wait."""
MAX_DELAY = timedelta(minutes=15)
FORGET_AFTER = timedelta(hours=1)
"""A counter whose last failure is this old is deleted: the address starts afresh."""

PASSWORD, CODE = "password", "code"
"""The steps of a sign-in, each throttled on its own: a right password does not give free codes."""
EVERY_ACCOUNT = ("", "")
"""The ``(account, step)`` of an address's counter across accounts."""
IPV6_PREFIX = 64
"""An IPv6 client is counted by its /64 network: one subscriber usually holds a whole /64."""


def client_key(remote_addr: str | None) -> str:
    """What failures are counted against: the IPv4 address, or the IPv6 address's /64 network."""
    try:
        address = ipaddress.ip_address(remote_addr or "")
    except ValueError:
        return "unknown"
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/{IPV6_PREFIX}", strict=False))
    return str(address)


def retry_delay(failures: int, free: int) -> timedelta:
    """How long to rest after ``failures`` failures of which ``free`` cost nothing: doubling, capped."""
    if failures < free:
        return timedelta(0)
    # The exponent is bounded so that a long-attacked counter never overflows timedelta.
    doublings = min(failures - free + 1, 32)
    return min(timedelta(seconds=2**doublings), MAX_DELAY)


@dataclass(frozen=True)
class Claim:
    """An attempt counted as a failure on both its counters until :func:`succeeded` gives it back."""

    address: str
    account: str
    step: str


@dataclass(frozen=True)
class Resting:
    """An attempt turned away unchecked: the address rests (for this account, or for all) ``wait`` longer."""

    wait: timedelta

    @property
    def minutes(self) -> int:
        """The wait in whole minutes, rounded up: one at least."""
        return max(1, math.ceil(self.wait / timedelta(minutes=1)))


def claim(factory: sessionmaker[Session], address: str, account: str, step: str, now: datetime) -> Claim | Resting:
    """Count the attempt as a failure, or turn it away: the address rests (for this account, or for all).

    The account may be unknown: its counter is kept and weighed exactly like a known account's.
    """
    keys = ((account, step, FREE_PER_ACCOUNT), (*EVERY_ACCOUNT, FREE_PER_ADDRESS))
    with factory.begin() as s:
        s.execute(sa.delete(SignInThrottle).where(SignInThrottle.last_failure < now - FORGET_AFTER))
    with factory() as s:
        seen = {(row.account, row.step): row for row in s.scalars(_rows(address, keys))}
    left = max(_rest_left(seen.get((a, st)), free, now) for a, st, free in keys)
    if left:
        return Resting(left)
    with factory.begin() as s:
        counts = [_count_failure(s, address, a, st, now) for a, st, _free in keys]
    # Another attempt moved a counter since it was read: it may have started a rest, from now.
    raced = [
        retry_delay(count, free)
        for (a, st, free), count in zip(keys, counts, strict=True)
        if count > free and count != (seen[(a, st)].failures if (a, st) in seen else 0) + 1
    ]
    if raced:
        return Resting(max(raced))
    return Claim(address, account, step)


def succeeded(factory: sessionmaker[Session], attempt: Claim) -> None:
    """The secret was right: the account's counter at this address starts afresh, the address's gives the claim back."""
    with factory.begin() as s:
        s.execute(sa.delete(SignInThrottle).where(*_key(attempt.address, attempt.account, attempt.step)))
        s.execute(
            sa.update(SignInThrottle)
            .where(*_key(attempt.address, *EVERY_ACCOUNT), SignInThrottle.failures > 0)
            .values(failures=SignInThrottle.failures - 1)
        )


def _key(address: str, account: str, step: str) -> tuple[sa.ColumnElement[bool], ...]:
    return (SignInThrottle.address == address, SignInThrottle.account == account, SignInThrottle.step == step)


def _rows(address: str, keys: tuple[tuple[str, str, int], ...]) -> sa.Select[SignInThrottle]:
    return sa.select(SignInThrottle).where(
        sa.or_(*(sa.and_(*_key(address, account, step)) for account, step, _free in keys))
    )


def _rest_left(row: SignInThrottle | None, free: int, now: datetime) -> timedelta:
    """How much longer the counter's rest lasts (nothing if it does not rest)."""
    if row is None:
        return timedelta(0)
    delay = retry_delay(row.failures, free)
    return max(_aware(row.last_failure) + delay - now, timedelta(0)) if delay else timedelta(0)


def _count_failure(s: Session, address: str, account: str, step: str, now: datetime) -> int:
    """One more failure on the counter (made at 1 if it is new); its count after this one."""
    insert = postgresql.insert if s.get_bind().dialect.name == "postgresql" else sqlite.insert
    new = insert(SignInThrottle).values(address=address, account=account, step=step, failures=1, last_failure=now)
    counted = new.on_conflict_do_update(
        index_elements=["address", "account", "step"],
        set_={"failures": SignInThrottle.failures + 1, "last_failure": now},
    )
    return int(s.execute(counted.returning(SignInThrottle.failures)).scalar_one())


def _aware(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes for timezone-aware columns; they were stored as UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
