"""A scriptable loopback HTTP server for the client's tests (not a test module itself).

Raw sockets, not ``http.server``: the tests need answers no well-behaved server gives
(nothing at all, a body dripped byte by byte, a hostile document) and to count connections.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

Respond = Callable[[socket.socket, "Loopback"], None]


class Loopback:
    def __init__(self, respond: Respond) -> None:
        self.respond = respond
        self.connections = 0
        self.requests: list[bytes] = []
        self.stopped = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self.base_url = f"http://127.0.0.1:{self.port}/"
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while not self.stopped.is_set():
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        with conn:
            conn.settimeout(5)
            try:
                self.requests.append(_read_request(conn))
                self.respond(conn, self)
            except OSError:
                pass  # the client gave up first, as some tests want

    def close(self) -> None:
        self.stopped.set()
        self._listener.close()


def _read_request(conn: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        (int(line.split(b":", 1)[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")), 0
    )
    while len(body) < length:
        chunk = conn.recv(65536)
        if not chunk:
            break
        body += chunk
    return head + b"\r\n\r\n" + body


@contextmanager
def loopback(respond: Respond) -> Iterator[Loopback]:
    server = Loopback(respond)
    try:
        yield server
    finally:
        server.close()


def http_response(status: int, body: bytes, content_type: str = "text/xml; charset=utf-8") -> bytes:
    head = f"HTTP/1.1 {status} X\r\nContent-Type: {content_type}\r\nContent-Length: {len(body)}\r\n"
    return head.encode() + b"Connection: close\r\n\r\n" + body


def answer(status: int, body: bytes) -> Respond:
    return lambda conn, server: conn.sendall(http_response(status, body))


def envelope(body: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:h="urn:mimosa:host:v1">'
        f"<soap:Body>{body}</soap:Body></soap:Envelope>"
    ).encode()


def closed_port() -> int:
    """A loopback port nothing listens on (connecting is refused)."""
    with socket.create_server(("127.0.0.1", 0)) as probe:
        return probe.getsockname()[1]
