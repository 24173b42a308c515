"""Waking a plugin's job as soon as there is work for it, instead of at its next interval.

A job that declares ``Job.wake_on`` (a channel name) runs at once, for the mission named,
when anyone:

- calls :func:`mimosa_host.plugin_api.wake_jobs` in this process (e.g. once a transaction that
  queued work has committed; on SQLite that is the only signal, so a jobs process of its own, apart from
  the web workers that queue the work, is not woken and goes by its tick), or
- commits ``NOTIFY <channel>, '<mission code>'`` (``SELECT pg_notify(...)``) on PostgreSQL, in
  any process on any machine: the runner LISTENs on every channel its jobs declare, on a
  connection of its own.

A wake-up only brings a job's turn forward; the runner's tick and the job's interval go on as
before, so a lost notification costs at most one interval.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa

from .logs import exception_summary
from .plugin_api import wake_listeners

log = logging.getLogger(__name__)
RECONNECT = 5.0
"""Seconds before listening again after the database connection was lost."""
POLL = 1.0
"""How long one wait for a notification lasts, so that a stop is seen."""


class Wakeup:
    """The bell a :class:`~mimosa_host.jobs.JobRunner` waits on between its ticks."""

    def __init__(self) -> None:
        self._bell = threading.Event()
        self._lock = threading.Lock()
        self._rung: set[tuple[str, str | None]] = set()
        self.listening = threading.Event()
        """Set once the runner LISTENs on PostgreSQL (a notification committed before is not heard)."""

    def ring(self, channel: str, mission_code: str | None = None) -> None:
        """Wake the jobs on ``channel`` for ``mission_code`` (every mission's with ``None``)."""
        with self._lock:
            self._rung.add((channel, mission_code or None))
        self._bell.set()

    def take(self) -> set[tuple[str, str | None]]:
        """The (channel, mission) pairs rung since the last take."""
        with self._lock:
            rung, self._rung = self._rung, set()
            self._bell.clear()
        return rung

    def wait(self, timeout: float) -> None:
        """Until rung, or ``timeout`` seconds."""
        self._bell.wait(timeout)

    def serve(self, engine: sa.Engine, channels: Iterable[str], stop: threading.Event) -> None:
        """Ring on this process's :func:`wake_jobs` calls, and on PostgreSQL on ``channels``' notifications,
        until ``stop`` (in daemon threads)."""
        wake_listeners.append(self.ring)

        def on_stop() -> None:
            stop.wait()
            wake_listeners.remove(self.ring)
            self._bell.set()  # the runner sees the stop at once

        threads = [threading.Thread(target=on_stop, daemon=True, name="jobs-stop")]
        channels = sorted(set(channels))
        if channels and engine.dialect.name == "postgresql":
            threads.append(
                threading.Thread(target=self._listen, args=(engine, channels, stop), daemon=True, name="jobs-listen")
            )
        for thread in threads:
            thread.start()

    def _listen(self, engine: sa.Engine, channels: list[str], stop: threading.Event) -> None:
        from psycopg import sql  # PostgreSQL's driver: only there

        while not stop.is_set():
            try:
                raw = engine.raw_connection()
                connection: Any = raw.driver_connection  # psycopg's
                raw.detach()  # held for as long as the runner runs: not the pool's any more
                try:
                    connection.autocommit = True
                    for channel in channels:
                        connection.execute(sql.SQL("LISTEN {}").format(sql.Identifier(channel)))
                    self.listening.set()
                    while not stop.is_set():
                        for notify in connection.notifies(timeout=POLL):
                            self.ring(notify.channel, notify.payload or None)
                finally:
                    self.listening.clear()
                    connection.close()
            except Exception as exc:  # noqa: BLE001 - the database away for a while: the ticks go on meanwhile
                log.warning("listening for job wake-ups failed: %s", exception_summary(exc))
                stop.wait(RECONNECT)
