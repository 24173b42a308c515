"""Runs plugins' periodic jobs, once per mission where the plugin is enabled (or, a plugin-wide job, once for
the plugin while it is enabled in any mission: ``Job.plugin_wide``).

``mimosa-host jobs serve`` runs them in one dedicated process (:func:`serve_jobs`; ``mimosa-host serve``
starts it beside the web workers), never in the web workers: a job runs once per interval and mission,
whatever the number of workers.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from .context import acting_for, acting_for_plugin
from .enablement import enabled_missions
from .job_wakeup import Wakeup
from .logs import exception_summary
from .models import utcnow
from .plugin_api import NO_MISSION, Job
from .runtime import Runtime

log = logging.getLogger(__name__)


def every_job(_plugin: str, _job: str) -> bool:
    return True


@dataclass
class JobRunner:
    rt: Runtime
    clock: Callable[[], datetime] = utcnow
    last_run: dict[tuple[str, str, str], datetime] = field(default_factory=dict)
    """(plugin, job, mission) -> when it last ran in this process (a plugin-wide job's mission: ``""``)."""
    wakeup: Wakeup = field(default_factory=Wakeup)
    """Brings a job with ``wake_on`` forward (job_wakeup.py)."""
    selected: Callable[[str, str], bool] = every_job
    """Which (plugin, job name) this runner runs: every job, unless ``jobs serve --only/--except`` says."""

    def jobs(self) -> list[tuple[str, Job]]:
        return [
            (plugin, job)
            for plugin, jobs in self.rt.host.call_each("mimosa_jobs")
            for job in jobs or ()
            if self.selected(plugin, job.name)
        ]

    def run_due(self, force: bool = False, stop: threading.Event | None = None) -> list[tuple[str, str, str]]:
        """Run every job whose interval has passed (every job with ``force``, and those woken: ``Job.wake_on``);
        returns what ran (a plugin-wide job's mission being ``""``). Once ``stop`` is set, no further job starts
        (the one running ends first).

        A failing job is logged by name and mission only, and does not stop the others.
        """
        ran: list[tuple[str, str, str]] = []
        now = self.clock()
        rung = self.wakeup.take()
        for plugin, job in self.jobs():
            with self.rt.factory() as s:
                missions = enabled_missions(s, plugin)
            # A plugin-wide job runs once for the plugin, while it is enabled anywhere.
            turns = ([NO_MISSION.code] if missions else []) if job.plugin_wide else missions
            for code in turns:
                key = (plugin, job.name, code)
                last = self.last_run.get(key)
                if stop is not None and stop.is_set():
                    return ran
                if not force and not self._woken(job, code, rung) and last is not None and now - last < job.interval:
                    continue
                self.last_run[key] = now
                self._run(plugin, job, code)
                ran.append(key)
        return ran

    @staticmethod
    def _woken(job: Job, code: str, rung: set[tuple[str, str | None]]) -> bool:
        if job.wake_on is None:
            return False
        if job.plugin_wide:  # whatever mission the wake-up names
            return any(channel == job.wake_on for channel, _mission in rung)
        return not rung.isdisjoint({(job.wake_on, code), (job.wake_on, None)})

    def _run(self, plugin: str, job: Job, code: str) -> None:
        acting = acting_for_plugin(self.rt, plugin, job=job) if job.plugin_wide else acting_for(self.rt, plugin, code)
        where = "for the plugin" if job.plugin_wide else f"in mission {code}"
        with acting as ctx:
            try:
                job.run(ctx)
            except Exception as exc:  # noqa: BLE001 - one job's failure must not stop the scheduler
                # The exception's message (and a chained database error's parameters) may hold case data: log
                # its type and where it was raised, never its text.
                log.error("job %s.%s failed %s: %s", plugin, job.name, where, exception_summary(exc))

    def run_forever(self, stop: threading.Event, tick: float = 5.0) -> None:
        """Run due jobs every ``tick`` seconds until ``stop`` is set, or at once for a job woken (``Job.wake_on``,
        :mod:`.job_wakeup`); a failing round is logged and the loop goes on.

        The first round comes after one tick. Set ``stop`` to end it: the job running ends, no other starts."""
        self.wakeup.serve(self.rt.engine, [job.wake_on for _plugin, job in self.jobs() if job.wake_on], stop)
        while True:
            self.wakeup.wait(tick)
            if stop.is_set():
                return
            try:
                self.run_due(stop=stop)
            except Exception as exc:  # noqa: BLE001 - e.g. the database is briefly unreachable: try again next tick
                log.error("the job scheduler's round failed: %s", exception_summary(exc))


STOP_SIGNALS = {signal.SIGTERM, signal.SIGINT}


def serve_jobs(
    rt: Runtime,
    tick: float = 5.0,
    travel_desk: bool = False,
    parent_check: float = 2.0,
    selected: Callable[[str, str], bool] = every_job,
) -> None:
    """The jobs process: runs due jobs until SIGTERM or SIGINT (or until its parent is gone), then returns,
    with those signals blocked (the process is to end).

    On a signal the job running ends and no other starts. The rounds run in a thread of their own while
    this (main) thread waits for the signals (``sigtimedwait``: no handler interrupts a job or a lock), and
    checks every ``parent_check`` seconds that the process that started it is still there. With
    ``travel_desk``, the demo's travel desk runs beside the jobs (``mimosa-host serve --demo``); with
    ``selected``, only the jobs it keeps (``jobs serve --only/--except``: e.g. relay processes of their own).
    """
    stop = threading.Event()
    runner = JobRunner(rt, selected=selected)
    parent = os.getppid()
    # Blocked before any thread starts, so that every thread inherits it; left blocked on return: a second
    # signal (the supervisor's SIGTERM after a Ctrl-C) must not end the process before it says it stopped.
    signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    threads = [threading.Thread(target=runner.run_forever, args=(stop, tick), name="jobs")]
    if travel_desk:
        from .soap import travel_desk as desk

        threads.append(threading.Thread(target=desk.run_forever, args=(rt.factory, stop), name="travel-desk"))
    for thread in threads:
        thread.start()
    log.info("jobs process %d started", os.getpid())
    while signal.sigtimedwait(STOP_SIGNALS, parent_check) is None:
        if os.getppid() != parent:
            log.warning("the jobs process's parent is gone: stopping")
            break
    stop.set()  # the runner's bell rings on it (job_wakeup.Wakeup.serve)
    for thread in threads:
        thread.join()
    log.info("jobs process %d stopped", os.getpid())
