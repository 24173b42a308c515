"""Fault switches for tests: make the SOAP services slow, unavailable, lose a reply, deliver a
change twice, answer a lookup unreadably or answer about another person, so that a client's
retry and reconciliation paths can be exercised against the real host (TST-05).

Counters (``unavailable = 3``) hit the next N requests; rates (``unavailable_rate = 0.3``) hit
each request with that chance, drawn from ``rng`` (seed it: a run is then repeatable as long as
the requests come one at a time).

One :class:`FaultSwitches` belongs to each SOAP application; all switches start off, and only
Python code holding the application can set them (``app.extensions["mimosa_soap"].faults``):
no route, header, parameter or environment variable reaches them.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field


@dataclass
class FaultSwitches:
    latency: float = 0.0
    """Seconds added before each request is processed, while set."""
    unavailable: int = 0
    """The next N requests are answered ``UNAVAILABLE`` (HTTP 503) without being processed."""
    drop_reply: int = 0
    """The next N requests are processed and committed, then the connection is closed without
    an answer: the client sees the connection dropped (requests: ``ConnectionError``)."""
    drop_reply_after: float = 0.0
    """With ``drop_reply``: hold the connection this many seconds first, so that a client whose
    read timeout is shorter sees a read timeout instead."""
    duplicate_changes: int = 0
    """The next N ``GetMovementChanges`` answers that carry changes deliver their first change twice."""
    unreadable_lookups: int = 0
    """The next N ``FindMovementByReference`` answers are cut off halfway (HTTP 200, not XML)."""
    beneficiary_answered_as: str | None = None
    """While set, ``GetBeneficiary`` answers with this beneficiary's record, whatever was asked
    (and whichever mission it belongs to): a host that mixes its answers up."""
    unavailable_rate: float = 0.0
    """The chance that a request is answered like ``unavailable``."""
    drop_reply_rate: float = 0.0
    """The chance that a request's reply is lost like ``drop_reply``."""
    dropped: threading.Event = field(default_factory=threading.Event, repr=False, compare=False)
    """Set once a request whose reply is dropped has committed: a test waits on it, not on the clock."""
    rng: random.Random = field(default_factory=random.Random, repr=False, compare=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def take(self, name: str) -> bool:
        """Whether switch ``name`` hits this request: its counter is on (counted down by one), or
        its rate (``<name>_rate``, if it has one) says so."""
        with self._lock:
            left = getattr(self, name)
            if left > 0:
                setattr(self, name, left - 1)
                return True
            rate = getattr(self, f"{name}_rate", 0.0)
            return rate > 0 and self.rng.random() < rate

    def is_off(self) -> bool:
        return self == FaultSwitches()
