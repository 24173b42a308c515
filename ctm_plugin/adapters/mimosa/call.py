"""The call in progress: which mission's host and API user, and the record to send verbatim.

The zeep clients are shared by every mission in the process, so what differs per call reaches
the transport and the WS-Security header through a context variable, never through the
shared client's state.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

from lxml import etree


@dataclass(frozen=True)
class Connection:
    """How to reach one mission's host (read from the mission's CTM settings)."""

    base_url: str
    username: str
    password: str = field(repr=False)
    connect_timeout: float = 3.05
    operation_timeout: float = 10.0
    """The longest silence from the host while waiting for its answer or reading it. An attempt
    is also cut once ``connect_timeout + operation_timeout`` have passed (checked between reads)."""

    def address(self, service: str) -> str:
        return f"{self.base_url.rstrip('/')}/soap/{service}"


@dataclass(frozen=True)
class Call:
    connection: Connection
    payload: etree._Element | None = None
    """The caller's ``Beneficiary`` / ``MovementRequest``, put into the request as it is."""


_current: ContextVar[Call] = ContextVar("ctm_host_call")


def current() -> Call:
    return _current.get()


@contextmanager
def calling(call: Call) -> Iterator[None]:
    token = _current.set(call)
    try:
        yield
    finally:
        _current.reset(token)
