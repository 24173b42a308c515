"""The job scheduler: each plugin job runs once per mission where its plugin is enabled.

``JobPlugin`` below stands in for a third-party plugin with periodic jobs; it records
every run it gets. The runner's clock is injected, so intervals need no waiting.
"""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from mimosa_host import enablement
from mimosa_host.context import acting_for_plugin, build_context
from mimosa_host.db import WriteRefused, transaction
from mimosa_host.jobs import JobRunner
from mimosa_host.models import Mission
from mimosa_host.plugin_api import (
    Job,
    MissionRef,
    Permission,
    PluginInfo,
    RequestContext,
    current_context,
    hookimpl,
    wake_jobs,
)

T0 = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
MISSIONS = {"THA": MissionRef("THA", "Thailand", "THA"), "KHM": MissionRef("KHM", "Cambodia", "KHM")}
CASE_DATA = "Jane Roe, BEN-1000001, victim of trafficking"


class JobPlugin:
    """Stands in for a third-party plugin: an hourly ``tick`` and, optionally, a ``boom`` that fails."""

    def __init__(self, name: str = "jobber", failing_in: tuple[str, ...] = (), wake_on: str | None = None) -> None:
        self.name = name
        self.failing_in = failing_in
        self.wake_on = wake_on
        self.ran = threading.Event()
        self.runs: list[tuple[str, RequestContext, bool]] = []
        self.booms: list[str] = []

    @hookimpl
    def mimosa_plugin_info(self) -> PluginInfo:
        return PluginInfo(self.name, "0.1", "Jobs", "A test plugin with jobs.", ">=1.0,<2")

    @hookimpl
    def mimosa_permissions(self) -> list[Permission]:
        return [Permission(f"{self.name}.sync", "Synchronise")]

    @hookimpl
    def mimosa_jobs(self) -> list[Job]:
        jobs = [Job("tick", timedelta(hours=1), self.tick, wake_on=self.wake_on)]
        if self.failing_in:
            jobs.insert(0, Job("boom", timedelta(hours=1), self.boom))
        return jobs

    def tick(self, ctx: RequestContext) -> None:
        self.runs.append((ctx.mission.code, ctx, current_context() is ctx))
        self.ran.set()

    def boom(self, ctx: RequestContext) -> None:
        self.booms.append(ctx.mission.code)
        if ctx.mission.code in self.failing_in:
            raise RuntimeError(f"could not sync {CASE_DATA}")


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def jobs_rt(rt):  # noqa: ANN001, ANN201
    """Missions THA, KHM, MDA; the runtime's CTM (which has no jobs) stays enabled nowhere."""
    with transaction(rt.factory) as s:
        for code, name in (("THA", "Thailand"), ("KHM", "Cambodia"), ("MDA", "Moldova")):
            s.add(Mission(code=code, name=name, country=code))
    return rt


def install(rt, plugin: JobPlugin, enabled_in: tuple[str, ...], disabled_in: tuple[str, ...] = ()) -> None:  # noqa: ANN001
    """Register the plugin, enable it in some missions, and enable-then-disable it in others."""
    rt.host.register(plugin, plugin.name)
    for code in (*enabled_in, *disabled_in):
        with transaction(rt.factory) as s:
            ctx, _ = build_context(s, rt.host, rt.factory, s.get(Mission, code), None, "en")
            enablement.enable(s, rt.host, code, plugin.name, {}, ctx)
    for code in disabled_in:
        with transaction(rt.factory) as s:
            ctx, _ = build_context(s, rt.host, rt.factory, s.get(Mission, code), None, "en")
            enablement.disable(s, rt.host, code, plugin.name, ctx)


def test_a_job_runs_once_per_enabled_mission_with_that_missions_context(jobs_rt) -> None:  # noqa: ANN001
    plugin = JobPlugin()
    install(jobs_rt, plugin, enabled_in=("THA", "KHM"), disabled_in=("MDA",))

    ran = JobRunner(jobs_rt, clock=Clock()).run_due()

    assert sorted(ran) == [("jobber", "tick", "KHM"), ("jobber", "tick", "THA")]
    assert sorted(code for code, _ctx, _bound in plugin.runs) == ["KHM", "THA"]
    for code, ctx, bound in plugin.runs:
        assert ctx.mission == MISSIONS[code]
        assert ctx.user is None
        assert ctx.can("jobber.sync")  # a job acts for the mission with the plugin's permissions
        assert bound  # current_context() works inside the job
    with pytest.raises(LookupError):
        current_context()  # and is unbound after it


def test_a_runner_runs_only_the_jobs_it_is_given(jobs_rt) -> None:  # noqa: ANN001
    # jobs serve --only jobber:boom (a relay process of its own) and --except jobber:boom (the main jobs process)
    plugin = JobPlugin(failing_in=("KHM",))
    install(jobs_rt, plugin, enabled_in=("THA",))

    only = JobRunner(jobs_rt, clock=Clock(), selected=lambda p, job: (p, job) == ("jobber", "boom"))
    assert only.run_due() == [("jobber", "boom", "THA")]
    assert (plugin.booms, plugin.runs) == (["THA"], [])

    rest = JobRunner(jobs_rt, clock=Clock(), selected=lambda p, job: (p, job) != ("jobber", "boom"))
    assert rest.run_due(force=True) == [("jobber", "tick", "THA")]
    assert plugin.booms == ["THA"]


def test_no_job_runs_where_the_plugin_is_not_enabled(jobs_rt) -> None:  # noqa: ANN001
    plugin = JobPlugin()
    install(jobs_rt, plugin, enabled_in=(), disabled_in=("THA",))

    assert JobRunner(jobs_rt, clock=Clock()).run_due(force=True) == []
    assert plugin.runs == []


def test_a_job_waits_for_its_interval_in_each_mission(jobs_rt) -> None:  # noqa: ANN001
    plugin = JobPlugin()
    install(jobs_rt, plugin, enabled_in=("THA",))
    clock = Clock()
    runner = JobRunner(jobs_rt, clock=clock)

    assert runner.run_due() == [("jobber", "tick", "THA")]
    clock.now = T0 + timedelta(minutes=59)
    assert runner.run_due() == []
    clock.now = T0 + timedelta(hours=1)
    assert runner.run_due() == [("jobber", "tick", "THA")]
    assert len(plugin.runs) == 2

    # A mission enabled meanwhile gets its first run at once; THA waits for its own hour.
    with transaction(jobs_rt.factory) as s:
        ctx, _ = build_context(s, jobs_rt.host, jobs_rt.factory, s.get(Mission, "KHM"), None, "en")
        enablement.enable(s, jobs_rt.host, "KHM", "jobber", {}, ctx)
    clock.now = T0 + timedelta(hours=1, minutes=1)
    assert runner.run_due() == [("jobber", "tick", "KHM")]
    # ``force`` (what "mimosa-host jobs run" does) runs everything regardless.
    assert sorted(runner.run_due(force=True)) == [("jobber", "tick", "KHM"), ("jobber", "tick", "THA")]


def test_a_job_stops_running_in_a_mission_once_disabled_there(jobs_rt) -> None:  # noqa: ANN001
    plugin = JobPlugin()
    install(jobs_rt, plugin, enabled_in=("THA", "KHM"))
    runner = JobRunner(jobs_rt, clock=Clock())
    runner.run_due()

    with transaction(jobs_rt.factory) as s:
        ctx, _ = build_context(s, jobs_rt.host, jobs_rt.factory, s.get(Mission, "KHM"), None, "en")
        enablement.disable(s, jobs_rt.host, "KHM", "jobber", ctx)

    assert runner.run_due(force=True) == [("jobber", "tick", "THA")]


def test_a_failing_job_is_logged_without_its_message_and_does_not_stop_the_others(  # noqa: ANN001
    jobs_rt, caplog: pytest.LogCaptureFixture
) -> None:
    plugin = JobPlugin(failing_in=("THA",))
    other = JobPlugin("other")
    install(jobs_rt, plugin, enabled_in=("THA", "KHM"))
    install(jobs_rt, other, enabled_in=("THA",))

    with caplog.at_level(logging.INFO, logger="mimosa_host.jobs"):
        ran = JobRunner(jobs_rt, clock=Clock()).run_due()

    # Every job ran everywhere it should, the failing one included (it failed in THA only).
    assert sorted(ran) == [
        ("jobber", "boom", "KHM"),
        ("jobber", "boom", "THA"),
        ("jobber", "tick", "KHM"),
        ("jobber", "tick", "THA"),
        ("other", "tick", "THA"),
    ]
    assert sorted(plugin.booms) == ["KHM", "THA"]
    assert sorted(code for code, _c, _b in plugin.runs) == ["KHM", "THA"]
    assert [code for code, _c, _b in other.runs] == ["THA"]

    # The exception's text may hold case data: it is in no log line, traceback included.
    assert "Jane Roe" not in caplog.text
    assert "BEN-1000001" not in caplog.text
    failures = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(failures) == 1
    assert failures[0].getMessage().startswith("job jobber.boom failed in mission THA")


def test_a_jobs_context_holds_only_its_own_plugins_permissions(jobs_rt) -> None:  # noqa: ANN001
    plugin, other = JobPlugin(), JobPlugin("other")
    install(jobs_rt, plugin, enabled_in=("THA",))
    install(jobs_rt, other, enabled_in=("THA",))

    JobRunner(jobs_rt, clock=Clock()).run_due()

    ((_code, ctx, _bound),) = plugin.runs
    assert ctx.permissions == {"jobber.sync"}
    ((_code, other_ctx, _bound),) = other.runs
    assert other_ctx.permissions == {"other.sync"}


def test_a_jobs_sessions_are_bound_to_its_mission(jobs_rt) -> None:  # noqa: ANN001
    plugin = JobPlugin()
    install(jobs_rt, plugin, enabled_in=("THA", "KHM"))

    JobRunner(jobs_rt, clock=Clock()).run_due()

    for code, ctx, _bound in plugin.runs:
        with ctx.session_factory() as session:
            assert session.info["mission_code"] == code


def test_the_scheduler_logs_a_failing_round_and_goes_on(jobs_rt, caplog: pytest.LogCaptureFixture) -> None:  # noqa: ANN001
    runner = JobRunner(jobs_rt, clock=Clock())
    stop = threading.Event()
    rounds: list[int] = []

    def run_due(force: bool = False, stop: threading.Event | None = None) -> list:
        rounds.append(len(rounds) + 1)
        if len(rounds) == 1:
            raise ConnectionError(f"the database is away; last query was about {CASE_DATA}")
        stop.set()
        return []

    runner.run_due = run_due  # type: ignore[method-assign]
    with caplog.at_level(logging.INFO, logger="mimosa_host.jobs"):
        runner.run_forever(stop, tick=0.001)

    assert rounds == [1, 2]  # the second round ran after the first failed
    (failure,) = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert failure.getMessage().startswith("the job scheduler's round failed: ConnectionError")
    assert "Jane Roe" not in caplog.text


def test_a_job_woken_for_a_mission_runs_there_before_its_interval_once(jobs_rt) -> None:  # noqa: ANN001
    plugin = JobPlugin(wake_on="jobber_work")
    install(jobs_rt, plugin, enabled_in=("THA", "KHM"))
    runner, stop = JobRunner(jobs_rt, clock=Clock()), threading.Event()
    runner.run_due()  # each mission's hour starts
    runner.wakeup.serve(jobs_rt.engine, ["jobber_work"], stop)
    try:
        wake_jobs("jobber_work", "THA")
        assert runner.run_due() == [("jobber", "tick", "THA")]
        assert runner.run_due() == []  # one wake-up, one run
        wake_jobs("another_channel", "THA")
        assert runner.run_due() == []
        wake_jobs("jobber_work")  # no mission named: every mission's
        assert sorted(runner.run_due()) == [("jobber", "tick", "KHM"), ("jobber", "tick", "THA")]
    finally:
        stop.set()


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)  # NOTIFY is PostgreSQL's
def test_on_postgresql_a_committed_notify_wakes_the_running_scheduler_at_once(jobs_rt) -> None:  # noqa: ANN001
    import sqlalchemy as sa

    plugin = JobPlugin(wake_on="jobber_work")
    install(jobs_rt, plugin, enabled_in=("THA",))
    runner, stop = JobRunner(jobs_rt, clock=Clock()), threading.Event()
    runner.run_due()  # THA's next turn is an hour away, the tick as long
    plugin.ran.clear()
    thread = threading.Thread(target=runner.run_forever, args=(stop,), kwargs={"tick": 3600.0}, daemon=True)
    thread.start()
    try:
        assert runner.wakeup.listening.wait(30)
        with transaction(jobs_rt.factory) as s:  # any connection, any process: the work's own transaction
            s.execute(sa.select(sa.func.pg_notify("jobber_work", "THA")))
        assert plugin.ran.wait(30)
        assert [code for code, _ctx, _bound in plugin.runs] == ["THA", "THA"]
    finally:
        stop.set()
        thread.join(30)


class WidePlugin(JobPlugin):
    """A plugin with one plugin-wide job (``Job.plugin_wide``): it reads every mission it reaches."""

    def __init__(self, name: str = "wide", failing: bool = False, wake_on: str | None = None) -> None:
        super().__init__(name, wake_on=wake_on)
        self.failing = failing
        self.reached: list[list[tuple[str, bool, str]]] = []

    @hookimpl
    def mimosa_jobs(self) -> list[Job]:
        return [Job("match", timedelta(hours=1), self.match, wake_on=self.wake_on, plugin_wide=True)]

    def match(self, ctx: RequestContext) -> None:
        self.runs.append((ctx.mission.code, ctx, current_context() is ctx))
        reached = []
        for mission in ctx.missions_with(f"{self.name}.sync"):
            there = ctx.in_mission(mission.code)
            with there.session_factory() as session:
                reached.append((there.mission.code, there.can(f"{self.name}.sync"), session.info["mission_code"]))
        self.reached.append(reached)
        if self.failing:
            raise RuntimeError(f"could not match {CASE_DATA}")


def test_a_plugin_wide_job_runs_once_per_interval_however_many_missions(jobs_rt) -> None:  # noqa: ANN001
    plugin = WidePlugin()
    install(jobs_rt, plugin, enabled_in=("THA", "KHM"))
    clock = Clock()
    runner = JobRunner(jobs_rt, clock=clock)

    assert runner.run_due() == [("wide", "match", "")]
    clock.now = T0 + timedelta(minutes=59)
    assert runner.run_due() == []
    clock.now = T0 + timedelta(hours=1)
    assert runner.run_due() == [("wide", "match", "")]
    assert len(plugin.runs) == 2
    ((code, ctx, bound), _second) = plugin.runs
    assert (code, ctx.user, bound) == ("", None, True)  # for the plugin, with no user, bound as current
    assert ctx.can("wide.sync")  # with its own declared permissions


def test_a_plugin_wide_job_reaches_every_enabled_mission_and_not_a_disabled_one(jobs_rt) -> None:  # noqa: ANN001
    plugin = WidePlugin()
    install(jobs_rt, plugin, enabled_in=("THA", "KHM"), disabled_in=("MDA",))

    JobRunner(jobs_rt, clock=Clock()).run_due()

    # Each mission's context is the plugin's job's there: that mission's sessions, the plugin's permissions.
    assert plugin.reached == [[("KHM", True, "KHM"), ("THA", True, "THA")]]
    ((_code, ctx, _bound),) = plugin.runs
    with pytest.raises(LookupError):
        ctx.in_mission("MDA")
    assert ctx.mission_users("wide.sync") == ()  # it acts for no user: it chooses no person


def test_a_plugin_wide_job_does_not_run_where_the_plugin_is_enabled_nowhere(jobs_rt) -> None:  # noqa: ANN001
    plugin = WidePlugin()
    install(jobs_rt, plugin, enabled_in=(), disabled_in=("THA",))

    assert JobRunner(jobs_rt, clock=Clock()).run_due(force=True) == []


def test_a_failing_plugin_wide_job_is_logged_by_type_only(jobs_rt, caplog: pytest.LogCaptureFixture) -> None:  # noqa: ANN001
    plugin, other = WidePlugin(failing=True), JobPlugin("other")
    install(jobs_rt, plugin, enabled_in=("THA", "KHM"))
    install(jobs_rt, other, enabled_in=("THA",))

    with caplog.at_level(logging.INFO, logger="mimosa_host.jobs"):
        ran = JobRunner(jobs_rt, clock=Clock()).run_due()

    assert sorted(ran) == [("other", "tick", "THA"), ("wide", "match", "")]
    assert "Jane Roe" not in caplog.text
    (failure,) = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert failure.getMessage().startswith("job wide.match failed for the plugin: RuntimeError")


def test_a_plugin_wide_job_is_woken_by_a_wake_up_for_any_mission(jobs_rt) -> None:  # noqa: ANN001
    plugin = WidePlugin(wake_on="wide_work")
    install(jobs_rt, plugin, enabled_in=("THA", "KHM"))
    runner, stop = JobRunner(jobs_rt, clock=Clock()), threading.Event()
    runner.run_due()
    runner.wakeup.serve(jobs_rt.engine, ["wide_work"], stop)
    try:
        wake_jobs("wide_work", "KHM")
        assert runner.run_due() == [("wide", "match", "")]
        assert runner.run_due() == []
    finally:
        stop.set()


def test_a_runner_selects_a_plugin_wide_job_by_name(jobs_rt) -> None:  # noqa: ANN001
    # jobs serve --only wide:match / --except wide:match
    plugin = WidePlugin()
    install(jobs_rt, plugin, enabled_in=("THA",))

    assert JobRunner(jobs_rt, clock=Clock(), selected=lambda p, job: (p, job) != ("wide", "match")).run_due() == []
    assert JobRunner(jobs_rt, clock=Clock(), selected=lambda p, job: (p, job) == ("wide", "match")).run_due() == [
        ("wide", "match", "")
    ]


class _Tables(DeclarativeBase):
    pass


class NarrowNote(_Tables):
    """Stands in for a plugin's HQ table (no mission's) that its plugin-wide job writes."""

    __tablename__ = "narrow_note"
    id: Mapped[int] = mapped_column(primary_key=True)
    text: Mapped[str] = mapped_column(sa.String(40))


class NarrowLog(_Tables):
    """Stands in for a plugin's table of a mission: its audit of what the job read there, say."""

    __tablename__ = "narrow_log"
    id: Mapped[int] = mapped_column(primary_key=True)
    mission_code: Mapped[str] = mapped_column(sa.String(8))


def refused_around_the_orm(factory, model: type[NarrowNote | NarrowLog], column: str) -> None:  # noqa: ANN001
    """Each way around the ORM's flush and statements writes ``model``'s undeclared table no more than they do."""
    table = model.__tablename__
    writes = (
        lambda session: session.execute(sa.text(f"INSERT INTO {table} ({column}) VALUES ('raw')")),
        lambda session: session.connection().execute(sa.insert(model).values({column: "connection"})),
        lambda session: session.connection().exec_driver_sql(f'DELETE FROM "{table}"'),
        lambda session: session.bulk_insert_mappings(model, [{column: "bulk"}]),
        lambda session: session.bulk_save_objects([model(**{column: "objects"})]),
        lambda session: session.execute(sa.text(f"SELECT 1; DELETE FROM {table}")),
        lambda session: session.execute(sa.text(f"DROP TABLE {table}")),
    )
    for write in writes:
        with pytest.raises(WriteRefused), factory() as session, session.begin():
            write(session)


class NarrowPlugin(JobPlugin):
    """A plugin-wide job that declares what it needs (host 1.4): one of its plugin's two permissions, the one
    table it writes for no mission, the one it writes in a mission; it tries every other write too."""

    def __init__(self) -> None:
        super().__init__("narrow")
        self.refused: list[str] = []

    @hookimpl
    def mimosa_permissions(self) -> list[Permission]:
        return [Permission("narrow.read", "Read"), Permission("narrow.admin", "Administer")]

    @hookimpl
    def mimosa_jobs(self) -> list[Job]:
        job = Job(
            "match",
            timedelta(hours=1),
            self.match,
            plugin_wide=True,
            permissions=frozenset({"narrow.read"}),
            writes=frozenset({"narrow_note"}),
            mission_writes=frozenset({"narrow_log"}),
        )
        return [job]

    def _refused(self, factory, obj: object) -> None:  # noqa: ANN001
        try:
            with factory() as session, session.begin():
                session.add(obj)
        except WriteRefused:
            self.refused.append(type(obj).__name__)

    def match(self, ctx: RequestContext) -> None:
        assert ctx.permissions == {"narrow.read"} and ctx.missions_with("narrow.admin") == ()
        for mission in ctx.missions_with("narrow.read"):
            there = ctx.in_mission(mission.code)
            assert there.permissions == {"narrow.read"}
            with there.session_factory() as session, session.begin():
                session.add(NarrowLog(mission_code=mission.code))
            self._refused(there.session_factory, NarrowNote(text=f"in {mission.code}"))
            with there.session_factory() as session, session.begin(), pytest.raises(WriteRefused):
                session.execute(sa.delete(NarrowNote))
            refused_around_the_orm(there.session_factory, NarrowNote, "text")
            with there.session_factory() as session, session.begin():
                session.scalars(sa.select(NarrowLog)).all()  # its transaction begun, the host's joins it
                with ctx.scope.host_sessions() as host, host.begin():  # the host's own write, on the same connection
                    host.add(NarrowNote(text=f"host in {mission.code}"))
                with pytest.raises(WriteRefused):  # and the job's session guarded again after it
                    session.execute(sa.text("DELETE FROM narrow_note"))
        with ctx.session_factory() as session, session.begin():
            session.add(NarrowNote(text="found"))
        self._refused(ctx.session_factory, NarrowLog(mission_code=""))
        refused_around_the_orm(ctx.session_factory, NarrowLog, "mission_code")
        self.runs.append((ctx.mission.code, ctx, current_context() is ctx))  # to its end: every check held


def test_a_plugin_wide_job_holds_the_permissions_it_declares_and_writes_only_its_tables(jobs_rt) -> None:  # noqa: ANN001
    plugin = NarrowPlugin()
    install(jobs_rt, plugin, enabled_in=("THA", "KHM"))
    _Tables.metadata.create_all(jobs_rt.engine)
    try:
        assert JobRunner(jobs_rt, clock=Clock()).run_due() == [("narrow", "match", "")]
        assert len(plugin.runs) == 1  # it ran to its end
        assert plugin.refused == ["NarrowNote", "NarrowNote", "NarrowLog"]
        with jobs_rt.factory() as s:
            assert sorted(s.scalars(sa.select(NarrowNote.text))) == ["found", "host in KHM", "host in THA"]
            assert sorted(s.scalars(sa.select(NarrowLog.mission_code))) == ["KHM", "THA"]
    finally:
        _Tables.metadata.drop_all(jobs_rt.engine)


def test_a_command_reaching_the_plugins_missions_without_a_job_writes_nothing(jobs_rt) -> None:  # noqa: ANN001
    plugin = NarrowPlugin()
    install(jobs_rt, plugin, enabled_in=("THA",))
    with acting_for_plugin(jobs_rt, "narrow") as ctx:  # CommandHost.plugin_context() with no job
        assert ctx.permissions == {"narrow.read", "narrow.admin"}
        with pytest.raises(WriteRefused), ctx.in_mission("THA").session_factory() as session, session.begin():
            session.add(NarrowLog(mission_code="THA"))
        with pytest.raises(WriteRefused), ctx.session_factory() as session, session.begin():
            session.add(NarrowNote(text="x"))
