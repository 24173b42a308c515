"""Fault switches for tests: make the SOAP services slow, unavailable, lose a reply, or
deliver a change twice, so that a client's retry and reconciliation paths can be exercised
against the real host (TST-05).

One :class:`FaultSwitches` belongs to each SOAP application; all switches start off, and only
Python code holding the application can set them (``app.extensions["mimosa_soap"].faults``):
no route, header, parameter or environment variable reaches them.
"""

from __future__ import annotations

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
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def take(self, name: str) -> bool:
        """Whether counter ``name`` is on; if so, count this use down by one."""
        with self._lock:
            left = getattr(self, name)
            if left <= 0:
                return False
            setattr(self, name, left - 1)
            return True

    def is_off(self) -> bool:
        return self == FaultSwitches()
