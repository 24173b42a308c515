"""``mimosa-host serve`` as an administrator runs it: gunicorn over real HTTP, one jobs process beside it.

The server runs in a subprocess on a free port of the loopback. Nothing sleeps for a set time: the tests
wait for the server's own lines (gunicorn's, the jobs process's) or poll what they wait for, each
within a bound.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from mimosa_host import enablement
from mimosa_host.cli import main as host_cli
from mimosa_host.context import system_context
from mimosa_host.models import Mission, PluginEnablement
from mimosa_host.runtime import Runtime

BOUND = 60.0
"""Seconds any one wait may last before the test fails (a loaded machine starts Python slowly)."""
WORKER = re.compile(r"Booting worker with pid: (\d+)")
JOBS = re.compile(r"jobs: process (\d+) runs")
MASTER = re.compile(r"Listening at: \S+ \((\d+)\)")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """``mimosa-host ARGS`` in a subprocess; its output (stdout and stderr) read line by line as it comes."""

    def __init__(self, database_url: str, *args: str) -> None:
        env = {**os.environ, "MIMOSA_DATABASE_URL": database_url, "PYTHONUNBUFFERED": "1"}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "mimosa_host", *args],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,  # its own process group: a failed test ends the server's children too
        )
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line)
        self.lines.put(None)

    def expect(self, pattern: re.Pattern[str], count: int = 1) -> list[str]:
        """The first group of every line so far matching ``pattern``, once there are ``count`` (within the bound)."""
        deadline = time.monotonic() + BOUND
        while len(found := [m.group(1) for line in self.seen if (m := pattern.search(line))]) < count:
            try:
                line = self.lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                pytest.fail(f"no {pattern.pattern!r} within {BOUND} s; the server said:\n{''.join(self.seen)}")
            if line is None:
                pytest.fail(f"the server ended before {pattern.pattern!r}:\n{''.join(self.seen)}")
            self.seen.append(line)
        return found

    def stop(self) -> int:
        """SIGTERM, then its exit status (within the bound)."""
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(BOUND)

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()


@pytest.fixture
def started() -> Iterator[Callable[..., Server]]:
    servers: list[Server] = []

    def start(database_url: str, *args: str) -> Server:
        servers.append(Server(database_url, *args))
        return servers[-1]

    yield start
    for server in servers:  # a failed test leaves no server behind
        server.kill()


def until(check: Callable[[], bool], what: str) -> None:
    """Poll ``check`` until it holds, within the bound."""
    deadline = time.monotonic() + BOUND
    pause = threading.Event()
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not within {BOUND} s")
        pause.wait(0.1)


def command_line(pid: int) -> str:
    return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()


def parent_of(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


def is_gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return True
    return state == "Z"


def point_missions_at(rt: Runtime, port: int) -> None:
    """As an administrator would: the missions' CTM talks to the host served on ``port``."""
    with rt.factory() as s, s.begin():
        for state in s.scalars(sa.select(PluginEnablement).filter_by(enabled=True)).all():
            ctx = system_context(s, rt.host, rt.factory, s.get(Mission, state.mission_code))
            settings = {**state.settings, "soap_base_url": f"http://127.0.0.1:{port}/"}
            enablement.enable(s, rt.host, state.mission_code, state.plugin_name, settings, ctx)


def outbox(database_url: str, status: str) -> str:
    result = CliRunner().invoke(
        host_cli,
        ["ctm", "outbox", "list", "--mission", "THA", "--status", status],
        env={"MIMOSA_DATABASE_URL": database_url},
    )
    assert result.exit_code == 0, result.output
    return result.output


def test_serve_keeps_connections_alive_runs_jobs_in_one_process_and_stops_on_sigterm(
    demo: Runtime, database_url: str, started: Callable[..., Server]
) -> None:
    port = free_port()
    point_missions_at(demo, port)
    seeded = CliRunner().invoke(host_cli, ["ctm", "demo", "cases"], env={"MIMOSA_DATABASE_URL": database_url})
    assert seeded.exit_code == 0, seeded.output
    assert "BookMovement" in outbox(database_url, "pending")  # a return booked: the relay's to send

    server = started(
        database_url, "serve", "--port", str(port), "--workers", "2", "--threads", "2", "--jobs-tick", "0.2"
    )
    workers = [int(pid) for pid in server.expect(WORKER, count=2)]
    (jobs,) = [int(pid) for pid in server.expect(JOBS)]

    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=BOUND)
    try:
        connection.request("GET", "/login")
        first = connection.getresponse()
        first.read()
        sock = connection.sock
        assert first.status == 200
        assert first.getheader("Server") == "gunicorn"
        assert first.getheader("Connection", "").lower() != "close"
        connection.request("GET", "/soap/BeneficiaryService?wsdl")
        second = connection.getresponse()
        second.read()
        assert second.status == 200
        assert connection.sock is sock is not None  # the same connection served both
    finally:
        connection.close()

    # The jobs process, and it alone, runs the jobs: the relay sends the booking to the web workers' SOAP service.
    until(lambda: "BookMovement" in outbox(database_url, "done"), "the relay sent the outbox's booking")
    assert "jobs serve" in command_line(jobs)
    assert parent_of(jobs) == server.process.pid
    assert jobs not in workers
    for worker in workers:
        assert "jobs serve" not in command_line(worker)
        assert parent_of(worker) != server.process.pid  # gunicorn's master's children, not the supervisor's

    assert server.stop() == 0
    server.expect(re.compile(r"jobs: process (\d+) stopped"))
    assert all(is_gone(pid) for pid in (jobs, *workers))


# The supervisor's and Werkzeug's work is the same on every backend: SQLite alone, to keep the suite fast.
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_serve_restarts_a_jobs_process_that_died_and_its_children_end_with_it(
    demo: Runtime, database_url: str, started: Callable[..., Server]
) -> None:
    server = started(database_url, "serve", "--port", str(free_port()), "--workers", "1", "--threads", "1")
    (jobs,) = server.expect(JOBS)
    (master,) = server.expect(MASTER)
    os.kill(int(jobs), signal.SIGKILL)
    first, again = server.expect(JOBS, count=2)
    assert (first, is_gone(int(first))) == (jobs, True)
    assert parent_of(int(again)) == server.process.pid

    os.kill(server.process.pid, signal.SIGKILL)  # the supervisor killed (the OOM killer, say): no orphan serves on
    server.process.wait(BOUND)
    until(lambda: is_gone(int(master)) and is_gone(int(again)), "the web server and the jobs process ended")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_serve_debug_is_werkzeugs_development_server(
    demo: Runtime, database_url: str, started: Callable[..., Server]
) -> None:
    port = free_port()
    server = started(database_url, "serve", "--debug", "--no-jobs", "--port", str(port))
    server.expect(re.compile(r"(Running on http://127\.0\.0\.1:\d+)"))
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=BOUND)
    try:
        connection.request("GET", "/login")
        response = connection.getresponse()
        response.read()
    finally:
        connection.close()
    assert response.status == 200
    assert response.getheader("Server", "").startswith("Werkzeug/")
    assert server.stop() == 0
