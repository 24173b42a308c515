"""The zeep transport: vendored documents only, and bounded, classified HTTP calls.

- ``load()`` serves the vendored WSDL/XSD by location and refuses anything else, so building
  a client can never reach the network, whatever an import in those files says.
- ``post()`` reuses the process's keep-alive connections to each host (the session's pool),
  takes the timeouts from the call in progress (the transport is shared by every mission),
  follows no redirect, reads at most ``MAX_REPLY_BYTES`` (decompressed) within the time
  budget, and turns every failure into ``HostUnavailable`` with ``ambiguous`` saying whether
  the host may have the request. It logs nothing: zeep's own ``post()`` would log whole
  envelopes at DEBUG.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass

import requests
import urllib3.exceptions
from zeep import Transport
from zeep.exceptions import ExternalReferenceForbidden

from .call import current
from .errors import HostProtocolError, HostUnavailable

MAX_REPLY_BYTES = 8 * 1024 * 1024
"""Far above the largest answer (500 beneficiaries, 1000 changes); checked while reading."""
_CHUNK = 64 * 1024


@dataclass(frozen=True)
class Reply:
    status: int
    body: bytes


class HostTransport(Transport):
    def __init__(self, documents: Mapping[str, bytes]) -> None:
        """``documents``: absolute location → content, the only documents zeep may load."""
        super().__init__()
        self.session.adapters.pop("file://")  # zeep mounts one; nothing here reads files
        # No proxy, .netrc or CA bundle picked up from the environment: victims' data goes to the
        # address the mission's settings name, nowhere else (and the lookup cost a few ms a call).
        self.session.trust_env = False
        self._documents = dict(documents)

    def load(self, url: str) -> bytes:
        try:
            return self._documents[url]
        except KeyError:
            raise ExternalReferenceForbidden(url) from None

    def post(self, address: str, message: bytes, headers: dict) -> Reply:
        connection = current().connection
        deadline = time.monotonic() + connection.connect_timeout + connection.operation_timeout
        try:
            response = self.session.post(
                address,
                data=message,
                headers=headers,
                timeout=(connection.connect_timeout, connection.operation_timeout),
                stream=True,
                allow_redirects=False,  # a redirect would carry the token and the record elsewhere
            )
        except requests.RequestException as exc:
            raise _unavailable(exc) from exc
        try:
            body = _read(response, deadline)
        except BaseException:
            response.close()  # cut short: the connection cannot serve another call
            raise
        # Read to its end: the connection goes back to the pool for the next call (keep-alive).
        # ``Response.close()`` would close it, the body having been read past requests.
        response.raw.release_conn()
        return Reply(response.status_code, body)


def _read(response: requests.Response, deadline: float) -> bytes:
    """The body, a chunk at a time (``read1``: a drip-feeding host cannot hold one read open)."""
    body = bytearray()
    try:
        while chunk := response.raw.read1(_CHUNK, decode_content=True):
            body += chunk
            if len(body) > MAX_REPLY_BYTES:
                raise HostProtocolError("reply too large")
            if time.monotonic() > deadline:
                raise HostUnavailable("TIMEOUT", ambiguous=True)
    except (requests.RequestException, urllib3.exceptions.HTTPError, OSError) as exc:
        timed_out = isinstance(exc, urllib3.exceptions.TimeoutError | TimeoutError)
        raise HostUnavailable("TIMEOUT" if timed_out else "CONNECTION_LOST", ambiguous=True) from exc
    return bytes(body)


def _unavailable(exc: requests.RequestException) -> HostUnavailable:
    """Before a connection existed the host cannot have the request; after, it may."""
    if isinstance(exc, requests.ConnectTimeout):
        return HostUnavailable("CONNECT_TIMEOUT", ambiguous=False)
    if isinstance(exc, requests.exceptions.SSLError | requests.exceptions.ProxyError):
        return HostUnavailable("CONNECT_FAILED", ambiguous=False)
    reason = getattr(exc.args[0] if exc.args else None, "reason", None)
    if isinstance(reason, urllib3.exceptions.NewConnectionError):  # refused, no route, DNS
        return HostUnavailable("CONNECT_FAILED", ambiguous=False)
    if isinstance(exc, requests.ReadTimeout):
        return HostUnavailable("TIMEOUT", ambiguous=True)
    return HostUnavailable("CONNECTION_LOST", ambiguous=True)
