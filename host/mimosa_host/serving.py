"""``mimosa-host serve``: the web shell and the SOAP services under gunicorn, and one jobs process beside them.

Why gunicorn (and not waitress): its workers are processes, so a host uses every core past the GIL;
its ``gthread`` workers keep connections alive (a SOAP client or a browser reuses its connection);
and the CTM targets Linux servers, where gunicorn runs (it does not run on Windows). It is embedded here
through its ``BaseApplication`` API: no configuration file, no ``gunicorn`` command.

The process tree of ``mimosa-host serve`` (jobs on, the default)::

    mimosa-host serve               the supervisor: passes SIGTERM/SIGINT on, restarts a jobs process that died
      mimosa-host serve --no-jobs   gunicorn's master, and its web workers (--workers, --threads each)
      mimosa-host jobs serve        the one jobs process (plugin jobs; with --demo, the travel desk)

A job therefore runs once per interval and mission whatever the number of web workers, and no web worker
runs a job. ``--no-jobs`` serves the web alone (the jobs process is then run apart, e.g. its own unit).
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import select
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication

from .runtime import Runtime

log = logging.getLogger(__name__)

DEFAULT_THREADS = 4
KEEPALIVE_SECONDS = 5
GRACEFUL_SECONDS = 30
"""How long a worker (or the jobs process) has to end what it is doing after SIGTERM."""
STOP = (signal.SIGTERM, signal.SIGINT)
RESTART_DELAY_SECONDS = 2.0
"""How long the supervisor waits before starting a jobs process again after one died."""


def default_workers() -> int:
    """One web worker per core, at least two (one may be busy in a slow request while the other answers)."""
    return max(2, os.cpu_count() or 1)


def bind_address(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


class WebServer(BaseApplication):
    """gunicorn serving ``app``: ``workers`` processes of ``threads`` threads each (``gthread``: keep-alive)."""

    def __init__(self, app: Flask, rt: Runtime, bind: str, port: int, workers: int, threads: int) -> None:
        self.application = app
        self.rt = rt
        self.options: dict[str, Any] = {
            "bind": [bind_address(bind, port)],
            "workers": workers,
            "worker_class": "gthread",
            "threads": threads,
            "keepalive": KEEPALIVE_SECONDS,
            "graceful_timeout": GRACEFUL_SECONDS,
            # The host alone decides which proxy's headers to believe (MIMOSA_TRUSTED_PROXIES, through ProxyFix).
            "forwarded_allow_ips": "",
            "secure_scheme_headers": {},
            "post_fork": self._post_fork,
            # gunicorn 24 and later: no control socket (one path per user: two servers would share it).
            "control_socket_disable": True,
        }
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            if key in self.cfg.settings:  # a setting an older gunicorn does not have is not needed there
                self.cfg.set(key, value)

    def load(self) -> Flask:
        return self.application

    def _post_fork(self, _server: object, _worker: object) -> None:
        # The engine's pooled connections belong to the master: the worker opens its own (SQLAlchemy's
        # recipe for a fork), leaving the master's alone.
        self.rt.engine.dispose(close=False)


def serve_web(app: Flask, rt: Runtime, bind: str, port: int, workers: int, threads: int) -> None:
    """Serve ``app`` under gunicorn until SIGTERM (graceful) or SIGINT; exits the process with gunicorn's status."""
    from .soap.schema import compiled_schema

    compiled_schema()  # compiled once, in the master: every worker inherits it
    rt.engine.dispose()  # no connection of the master's crosses the fork
    WebServer(app, rt, bind, port, workers, threads).run()


def module_command(*args: str) -> list[str]:
    """The command line running ``mimosa-host ARGS`` with this interpreter."""
    return [sys.executable, "-m", "mimosa_host", *args]


def child_environment(rt: Runtime) -> dict[str, str]:
    """This process's environment, with the database URLs it was given (``--database`` included): a child
    reads them from its environment, never from its command line, which other users of the machine can see."""
    from .runtime import DATABASE_ENV, MIGRATION_DATABASE_ENV

    env = dict(os.environ)
    env[DATABASE_ENV] = rt.engine.url.render_as_string(hide_password=False)
    if rt.migration_url:
        env[MIGRATION_DATABASE_ENV] = rt.migration_url
    return env


PR_SET_PDEATHSIG = 1


def _end_with_parent(parent: int) -> Callable[[], None]:
    """What a child runs before its command: on Linux, it gets SIGTERM when the supervisor ends, even killed
    (SIGKILL, the OOM killer), and stops cleanly instead of serving on, orphaned."""

    def arrange() -> None:
        if sys.platform.startswith("linux"):
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() != parent:  # the supervisor was gone before that
            os.kill(os.getpid(), signal.SIGTERM)

    return arrange


def supervise(
    web: Sequence[str],
    jobs: Sequence[str],
    env: dict[str, str],
    echo: Callable[[str], None],
    restart_delay: float = RESTART_DELAY_SECONDS,
) -> int:
    """Run the web server's command and the jobs process's; returns the status to exit with.

    SIGTERM or SIGINT is passed on to both, and both are waited for (gunicorn ends its requests, the
    jobs process the job it is running): 0 when the web server stopped cleanly. A jobs process that dies
    is started again after ``restart_delay`` seconds; a web server that dies stops the jobs process and
    its status is returned.
    """
    stopping: list[int] = []  # the signals asked to stop; a list, since a handler may only do so much
    # Each signal writes a byte to this pipe (set_wakeup_fd), which the loop below waits on: no lock is taken
    # in a handler, and no signal is missed between a check and the wait.
    read_end, write_end = os.pipe()
    os.set_blocking(read_end, False)
    os.set_blocking(write_end, False)
    previous_fd = signal.set_wakeup_fd(write_end)
    previous = {signum: signal.signal(signum, lambda signum, _frame: stopping.append(signum)) for signum in STOP}
    previous[signal.SIGCHLD] = signal.signal(signal.SIGCHLD, lambda _signum, _frame: None)

    def wait(timeout: float | None) -> None:
        if not stopping:
            select.select([read_end], [], [], timeout)
        with contextlib.suppress(BlockingIOError):
            while os.read(read_end, 512):
                pass

    arrange = _end_with_parent(os.getpid())

    def start(command: Sequence[str]) -> subprocess.Popen[bytes]:
        # preexec_fn: this process runs no thread, which is what makes it safe.
        return subprocess.Popen(command, env=env, preexec_fn=arrange)  # noqa: S603, PLW1509 - our own command

    try:
        web_process = start(web)
        jobs_process = start(jobs)
        restart_at: float | None = None
        while not stopping:
            # Woken by a signal (a child ended, or a stop); the timeout only bounds a restart's delay.
            wait(None if restart_at is None else max(0.0, restart_at - time.monotonic()))
            if stopping or web_process.poll() is not None:
                break
            if jobs_process.poll() is not None:
                if restart_at is None:
                    echo(
                        f"the jobs process exited ({jobs_process.returncode}): starting another in {restart_delay:g} s"
                    )
                    restart_at = time.monotonic() + restart_delay
                elif time.monotonic() >= restart_at:
                    jobs_process = start(jobs)
                    restart_at = None
        for process in (web_process, jobs_process):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in (web_process, jobs_process):
            try:
                process.wait(GRACEFUL_SECONDS + 5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        status = web_process.returncode
        return 0 if stopping and status in (0, -signal.SIGTERM) else (status or 1)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        signal.set_wakeup_fd(previous_fd)
        os.close(read_end)
        os.close(write_end)
