import gzip
import socket
import time

import pytest
import requests
from zeep.exceptions import ExternalReferenceForbidden

from ctm_plugin.adapters.mimosa.call import Call, Connection, calling
from ctm_plugin.adapters.mimosa.errors import HostProtocolError, HostUnavailable
from ctm_plugin.adapters.mimosa.testing import Loopback, answer, closed_port, http_response, loopback
from ctm_plugin.adapters.mimosa.transport import MAX_REPLY_BYTES, HostTransport, Reply, _unavailable


def post(base_url: str, operation_timeout: float = 10.0) -> Reply:
    """A patient client by default (a busy machine may take seconds); the timeout tests pass a short one."""
    connection = Connection(base_url, "ctm-tha", "secret", connect_timeout=1.0, operation_timeout=operation_timeout)
    with calling(Call(connection)):
        return HostTransport({}).post(connection.address("MovementService"), b"<x/>", {})


def test_the_reply_is_read_whole() -> None:
    with loopback(lambda conn, _: conn.sendall(http_response(200, b"<ok/>"))) as server:
        assert post(server.base_url) == Reply(200, b"<ok/>")
    assert b"POST /soap/MovementService" in server.requests[0]


def test_a_refused_connection_is_not_ambiguous() -> None:
    with pytest.raises(HostUnavailable) as caught:
        post(f"http://127.0.0.1:{closed_port()}/")
    assert (caught.value.code, caught.value.ambiguous, caught.value.retryable) == ("CONNECT_FAILED", False, True)


def test_a_connect_timeout_is_not_ambiguous() -> None:
    # No listener that never completes a handshake is portable; the classification is what matters.
    assert not _unavailable(requests.ConnectTimeout()).ambiguous


def never_answer(conn: socket.socket, server: Loopback) -> None:
    server.stopped.wait(10)


def test_a_host_that_never_answers_is_ambiguous_within_the_operation_timeout() -> None:
    with loopback(never_answer) as server:
        started = time.monotonic()
        with pytest.raises(HostUnavailable) as caught:
            post(server.base_url, operation_timeout=0.5)
        assert time.monotonic() - started < 0.5 + 1
    assert (caught.value.code, caught.value.ambiguous) == ("TIMEOUT", True)


def test_a_dropped_connection_after_the_request_is_ambiguous() -> None:
    with loopback(lambda conn, _: None) as server, pytest.raises(HostUnavailable) as caught:
        post(server.base_url)
    assert (caught.value.code, caught.value.ambiguous) == ("CONNECTION_LOST", True)


def drip(conn: socket.socket, server: Loopback) -> None:
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: 1000\r\n\r\n")
    while not server.stopped.wait(0.1):
        conn.sendall(b" ")


def test_a_dripped_reply_ends_at_the_time_budget() -> None:
    with loopback(drip) as server:
        started = time.monotonic()
        with pytest.raises(HostUnavailable) as caught:
            post(server.base_url, operation_timeout=0.5)
        assert (
            time.monotonic() - started < 1.0 + 0.5 + 5
        )  # the budget (a read, and a busy machine's slack): not the drip's end
    assert caught.value.ambiguous


def flood(conn: socket.socket, server: Loopback) -> None:
    conn.sendall(f"HTTP/1.1 200 OK\r\nContent-Length: {2 * MAX_REPLY_BYTES}\r\n\r\n".encode())
    chunk = b"<" * 65536
    for _ in range(2 * MAX_REPLY_BYTES // len(chunk)):
        conn.sendall(chunk)


def test_a_reply_over_the_limit_is_refused_while_reading() -> None:
    with loopback(flood) as server, pytest.raises(HostProtocolError):
        post(server.base_url)


def test_documents_other_than_the_given_ones_are_never_loaded() -> None:
    with loopback(lambda conn, _: conn.sendall(http_response(200, b"<x/>"))) as server:
        transport = HostTransport({"/wsdl/a.xsd": b"<a/>"})
        assert transport.load("/wsdl/a.xsd") == b"<a/>"
        for url in (f"{server.base_url}x.xsd", "/etc/passwd", "file:///etc/passwd"):
            with pytest.raises(ExternalReferenceForbidden):
                transport.load(url)
    assert server.connections == 0
    assert "file://" not in transport.session.adapters
    assert transport.session.verify is True


def test_a_redirect_is_not_followed() -> None:
    with loopback(answer(200, b"<x/>")) as elsewhere:
        redirect = f"HTTP/1.1 307 X\r\nLocation: {elsewhere.base_url}soap/MovementService\r\nContent-Length: 0\r\n\r\n"
        with loopback(lambda conn, _: conn.sendall(redirect.encode())) as server:
            assert post(server.base_url).status == 307
    assert elsewhere.connections == 0


def test_a_compressed_reply_is_limited_after_inflating() -> None:
    bomb = gzip.compress(b"<" * (2 * MAX_REPLY_BYTES))
    head = f"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: {len(bomb)}\r\n\r\n".encode()
    with loopback(lambda conn, _: conn.sendall(head + bomb)) as server, pytest.raises(HostProtocolError):
        post(server.base_url)


def stall(conn: socket.socket, server: Loopback) -> None:
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n<a>")
    server.stopped.wait(10)


def test_a_reply_that_stops_halfway_is_an_ambiguous_timeout() -> None:
    with loopback(stall) as server:
        started = time.monotonic()
        with pytest.raises(HostUnavailable) as caught:
            post(server.base_url, operation_timeout=0.5)
        assert time.monotonic() - started < 0.5 + 1
    assert (caught.value.code, caught.value.ambiguous) == ("TIMEOUT", True)
