"""How a call to the host fails, in the terms the outbox relay decides on.

- ``HostFault``: the host answered with a business fault; only ``UNAVAILABLE`` is worth retrying.
- ``HostUnavailable``: no usable answer (unreachable, timed out, cut off, a 5xx without a fault);
  retryable, and ``ambiguous`` when the host may have acted on the request.
- ``HostProtocolError``: an answer that is not a SOAP reply we can read (hostile, malformed, the
  wrong element, a 4xx, a value the operation needs missing or unreadable); retrying may get the
  same, but a booking whose answer could not be read may still be held by the host, so the relay
  keeps it in doubt. Its message never quotes the answer.
- ``HostMismatch``: a readable answer about something other than what was asked (another
  beneficiary, another mission, another movement); nothing of it is used.
"""

from __future__ import annotations

from typing import Any


class HostError(Exception):
    """Any failure to get an answer from the host."""

    code: str
    retryable = False


class HostFault(HostError):
    """A ``soap:Fault`` whose detail is a ``HostFault``.

    ``str()`` is the code and the offending fields only: the host's message may quote data,
    so it is kept in ``message`` for the caller to show, not to log.
    """

    details: dict[str, Any] | None = None
    """Set by the caller that handled the fault: what the case page shows (a CONFLICT's two versions)."""

    def __init__(self, code: str, message: str, fields: tuple[str, ...] = (), http_status: int = 500) -> None:
        super().__init__(f"{code} ({', '.join(fields)})" if fields else code)
        self.code = code
        self.message = message
        self.fields = fields
        self.http_status = http_status

    @property
    def retryable(self) -> bool:  # type: ignore[override]
        return self.code == "UNAVAILABLE"


class HostUnavailable(HostError):
    """The host could not be reached or gave no usable answer; worth retrying.

    ``ambiguous``: the request may have reached the host and been acted on (read timeout,
    connection lost after sending, a 5xx other than 503), so ask before sending it again.
    """

    retryable = True

    def __init__(self, code: str, *, ambiguous: bool) -> None:
        super().__init__(f"{code} (ambiguous)" if ambiguous else code)
        self.code = code
        self.ambiguous = ambiguous


class HostProtocolError(HostError):
    """The host's answer is not one we accept; retrying would get the same."""

    code = "PROTOCOL"


class HostMismatch(HostProtocolError):
    """The answer is about another record than the one asked for; nothing of it may be written.

    ``asked`` and ``got`` name the two (host ids or mission codes, never case details), for the
    page that says why nothing changed.
    """

    code = "MISMATCH"

    def __init__(self, what: str, asked: str | None, got: str | None) -> None:
        super().__init__(f"the answer is about another {what}")
        self.what, self.asked, self.got = what, asked or "", got or ""
