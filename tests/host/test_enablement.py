"""Enabling and disabling a plugin in a mission: every refusal the contract names, and the happy path.

A refusal gives a message naming the reason and changes nothing: neither the host's
``plugin_enablement`` row nor the plugin's own table (``ctm_mission``). The small
classes below stand in for third-party plugins.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from alembic import command

from ctm_plugin.domain.models import MissionActivation
from ctm_plugin.schemas.mission_settings_test import STORED_DEFAULTS
from mimosa_host import db, enablement
from mimosa_host.context import build_context
from mimosa_host.db import transaction
from mimosa_host.enablement import EnablementRefused
from mimosa_host.models import Mission, PluginEnablement
from mimosa_host.plugin_api import PluginInfo, Refusal, RequestContext, UserRef, hookimpl
from mimosa_host.plugins import PluginHost
from mimosa_host.runtime import Runtime

HQ_ADMIN = ("ana", True)
MISSION_ADMIN = ("mai", False)

SETTINGS = {
    "soap_base_url": "https://mimosa.example/",
    "soap_username": "ctm-tha",
    "soap_password": "correct horse battery",
    "case_number_prefix": "THA-CT",
    "time_zone": "Asia/Bangkok",
    **STORED_DEFAULTS,  # as the CTM's schema stores them when not given
    "reception_deadline_hours": 48,
}


class HookedPlugin:
    """Stands in for a third-party plugin; it records each enable call it gets."""

    def __init__(self, name: str, requires_host: str = ">=1.0,<2", restricted: bool = False) -> None:
        self.name = name
        self.requires_host = requires_host
        self.restricted = restricted
        self.enabled_calls: list[str] = []

    @hookimpl
    def mimosa_plugin_info(self) -> PluginInfo:
        return PluginInfo(self.name, "0.1", "Test", "A test plugin.", self.requires_host, self.restricted)

    @hookimpl
    def mimosa_mission_enabled(self, mission, settings, ctx) -> None:  # noqa: ANN001
        self.enabled_calls.append(mission.code)


notes = sa.Table("refuser_note", sa.MetaData(), sa.Column("mission_code", sa.String(8), primary_key=True))


class RefusingPlugin(HookedPlugin):
    """Stands in for a third-party plugin that writes its own row, then refuses the mission."""

    @hookimpl
    def mimosa_mission_enabled(self, mission, settings, ctx) -> None:  # noqa: ANN001
        self.enabled_calls.append(mission.code)
        with ctx.session_factory() as session, session.begin():
            session.execute(notes.insert().values(mission_code=mission.code))
        raise Refusal(f"The refuser does not work in {mission.name}.")


@pytest.fixture
def host_rt(rt):  # noqa: ANN001, ANN201
    """The migrated runtime with three missions; the CTM already enabled in KHM."""
    with transaction(rt.factory) as s:
        for code, name in (("THA", "Thailand"), ("KHM", "Cambodia"), ("MDA", "Moldova")):
            s.add(Mission(code=code, name=name, country=code))
    enable(rt, "KHM", "ctm", {**SETTINGS, "soap_username": "ctm-khm", "case_number_prefix": "KHM-CT"})
    return rt


def context(rt, s, code: str, actor: tuple[str, bool] | None = HQ_ADMIN) -> RequestContext:  # noqa: ANN001
    """A request context for an administrator (name, is HQ administrator) in the mission."""
    ctx, _ = build_context(s, rt.host, rt.factory, s.get(Mission, code), None, "en")
    user = UserRef(7, actor[0], actor[0].title(), is_hq_admin=actor[1]) if actor else None
    return dataclasses.replace(ctx, user=user)


def enable(rt, code: str, name: str, settings: dict, actor: tuple[str, bool] | None = HQ_ADMIN):  # noqa: ANN001, ANN201
    with transaction(rt.factory) as s:
        return enablement.enable(s, rt.host, code, name, settings, context(rt, s, code, actor))


def disable(rt, code: str, name: str, actor: tuple[str, bool] | None = HQ_ADMIN) -> None:  # noqa: ANN001
    with transaction(rt.factory) as s:
        enablement.disable(s, rt.host, code, name, context(rt, s, code, actor))


def snapshot(rt, with_ctm: bool = True) -> tuple[list, list]:  # noqa: ANN001
    """Everything an enablement may change: the host's rows and the CTM's own."""
    with rt.engine.connect() as conn:
        host_rows = conn.execute(
            sa.select(PluginEnablement.__table__).order_by(PluginEnablement.mission_code, PluginEnablement.plugin_name)
        ).all()
        ctm_rows = (
            conn.execute(sa.select(MissionActivation.__table__).order_by(MissionActivation.mission_code)).all()
            if with_ctm
            else []
        )
    return host_rows, ctm_rows


def state(rt, code: str, name: str) -> PluginEnablement | None:  # noqa: ANN001
    with rt.factory() as s:
        return s.scalar(
            sa.select(PluginEnablement).where(
                PluginEnablement.mission_code == code, PluginEnablement.plugin_name == name
            )
        )


def opened(row: PluginEnablement | None) -> dict:
    """The settings as the plugin gets them: secrets opened."""
    return enablement.stored_settings(row)[0]


def activation(rt, code: str) -> MissionActivation | None:  # noqa: ANN001
    with rt.factory() as s:
        return s.get(MissionActivation, code)


def aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)  # SQLite returns naive UTC


# -- refusals ---------------------------------------------------------------------------


def test_unknown_plugin_is_refused_and_nothing_changes(host_rt) -> None:  # noqa: ANN001
    before = snapshot(host_rt)
    with pytest.raises(EnablementRefused) as refused:
        enable(host_rt, "THA", "nosuch", {})
    assert str(refused.value) == "There is no plugin named nosuch."
    assert snapshot(host_rt) == before


def test_unknown_mission_is_refused(host_rt) -> None:  # noqa: ANN001
    before = snapshot(host_rt)
    with pytest.raises(EnablementRefused) as refused, transaction(host_rt.factory) as s:
        enablement.enable(s, host_rt.host, "XXX", "ctm", SETTINGS, context(host_rt, s, "THA"))
    assert str(refused.value) == "There is no mission XXX."
    assert snapshot(host_rt) == before


def test_incompatible_plugin_is_refused_naming_the_range_and_never_called(host_rt) -> None:  # noqa: ANN001
    old = HookedPlugin("old", requires_host="<1")
    host_rt.host.register(old, "old")
    before = snapshot(host_rt)

    with pytest.raises(EnablementRefused) as refused:
        enable(host_rt, "THA", "old", {})
    assert "cannot run on this host" in str(refused.value)
    assert "requires host <1" in str(refused.value)
    assert old.enabled_calls == []
    assert snapshot(host_rt) == before


def test_restricted_plugin_is_refused_to_a_mission_admin_and_allowed_to_hq(host_rt) -> None:  # noqa: ANN001
    guarded = HookedPlugin("guarded", restricted=True)
    host_rt.host.register(guarded, "guarded")
    before = snapshot(host_rt)

    with pytest.raises(EnablementRefused) as refused:
        enable(host_rt, "THA", "guarded", {}, actor=MISSION_ADMIN)
    assert str(refused.value) == "Only an HQ administrator may enable the plugin guarded."
    assert guarded.enabled_calls == []
    assert snapshot(host_rt) == before

    enable(host_rt, "THA", "guarded", {}, actor=HQ_ADMIN)
    assert guarded.enabled_calls == ["THA"]
    assert state(host_rt, "THA", "guarded").changed_by == "ana"


def test_plugin_whose_database_is_behind_is_refused_until_upgraded(host_rt) -> None:  # noqa: ANN001
    database = host_rt.host.call_one("ctm", "mimosa_database")
    cfg = db.alembic_config(host_rt.engine, database.script_location, database.version_table)
    command.downgrade(cfg, "base")  # the CTM was installed but "db upgrade" was not run
    assert not sa.inspect(host_rt.engine).has_table("ctm_mission")
    before = snapshot(host_rt, with_ctm=False)

    with pytest.raises(EnablementRefused) as refused:
        enable(host_rt, "THA", "ctm", SETTINGS)
    assert "The database of the plugin ctm is not up to date" in str(refused.value)
    assert "mimosa-host db upgrade" in str(refused.value)
    assert snapshot(host_rt, with_ctm=False) == before

    host_rt.upgrade_all()
    enable(host_rt, "THA", "ctm", SETTINGS)
    assert activation(host_rt, "THA") is not None


def test_plugin_whose_tables_were_never_created_is_refused(database_url) -> None:  # noqa: ANN001
    host = PluginHost()
    host.load_entry_points()
    rt = Runtime.from_url(database_url, host=host)
    try:
        db.upgrade_host(rt.engine)  # the host's migrations only
        with transaction(rt.factory) as s:
            s.add(Mission(code="THA", name="Thailand", country="THA"))
        with pytest.raises(EnablementRefused, match="not up to date"):
            enable(rt, "THA", "ctm", SETTINGS)
        assert snapshot(rt, with_ctm=False) == ([], [])
    finally:
        rt.engine.dispose()


BAD_SETTINGS = [
    pytest.param({"soap_base_url": "not an address"}, "soap_base_url", "Enter a full http or https address.", id="url"),
    pytest.param({"soap_base_url": "ftp://mimosa.example/"}, "soap_base_url", "Enter a full http", id="scheme"),
    pytest.param({"soap_username": None}, "soap_username", "This field is required.", id="no-username"),
    pytest.param({"soap_password": "pass\x00word"}, "soap_password", "Remove the control", id="control-password"),
    pytest.param({"case_number_prefix": "ct 1"}, "case_number_prefix", "Use 1 to 12 capital", id="prefix"),
    pytest.param({"colour": "red"}, "colour", "Unknown field.", id="unknown-field"),
]


@pytest.mark.parametrize(("change", "field", "message"), BAD_SETTINGS)
def test_settings_failing_the_schema_are_refused_per_field(host_rt, change, field, message) -> None:  # noqa: ANN001
    settings = {k: v for k, v in {**SETTINGS, **change}.items() if v is not None}
    before = snapshot(host_rt)

    with pytest.raises(EnablementRefused) as refused:
        enable(host_rt, "THA", "ctm", settings)
    assert str(refused.value) == "The settings were not saved: correct the fields marked below."
    assert list(refused.value.field_errors) == [field]
    assert any(msg.startswith(message) for msg in refused.value.field_errors[field])
    assert snapshot(host_rt) == before
    assert activation(host_rt, "THA") is None


def test_bad_settings_for_an_enabled_mission_keep_the_old_settings(host_rt) -> None:  # noqa: ANN001
    before = snapshot(host_rt)
    with pytest.raises(EnablementRefused) as refused:
        enable(host_rt, "KHM", "ctm", {**SETTINGS, "soap_base_url": "nope", "soap_password": ""})
    assert list(refused.value.field_errors) == ["soap_base_url"]
    assert snapshot(host_rt) == before
    assert opened(state(host_rt, "KHM", "ctm"))["soap_base_url"] == "https://mimosa.example/"


def test_refusal_raised_by_the_plugin_is_shown_and_nothing_is_kept(host_rt) -> None:  # noqa: ANN001
    notes.create(host_rt.engine)  # the refusing plugin's own table
    refuser = RefusingPlugin("refuser")
    host_rt.host.register(refuser, "refuser")
    before = snapshot(host_rt)

    with pytest.raises(EnablementRefused) as refused:
        enable(host_rt, "THA", "refuser", {})
    assert str(refused.value) == "The refuser does not work in Thailand."
    assert refused.value.plugin_message is True
    assert refuser.enabled_calls == ["THA"]
    assert snapshot(host_rt) == before
    with host_rt.engine.connect() as conn:
        assert conn.execute(sa.select(notes)).all() == []  # the plugin's own write went too


# -- the happy path ---------------------------------------------------------------------


def test_enable_records_who_when_and_the_settings_and_the_ctm_records_the_mission(host_rt) -> None:  # noqa: ANN001
    start = datetime.now(UTC)
    enable(host_rt, "THA", "ctm", SETTINGS)
    end = datetime.now(UTC)

    row = state(host_rt, "THA", "ctm")
    assert row.enabled is True
    assert row.changed_by == "ana"
    assert start <= aware(row.changed_at) <= end
    assert opened(row) == SETTINGS
    active = activation(host_rt, "THA")
    assert active.enabled_by == "ana"
    assert active.disabled_at is None
    with host_rt.factory() as s:
        assert enablement.enabled_missions(s, "ctm") == ["KHM", "THA"]
        assert "ctm" in enablement.enabled_plugins(s, "THA")


def test_schema_defaults_are_stored(host_rt) -> None:  # noqa: ANN001
    enable(host_rt, "THA", "ctm", {k: v for k, v in SETTINGS.items() if k != "case_number_prefix"})
    assert opened(state(host_rt, "THA", "ctm"))["case_number_prefix"] == "CT"


def test_the_ctm_records_the_mission_in_the_same_transaction(host_rt) -> None:  # noqa: ANN001
    class Abort(Exception):
        pass

    with pytest.raises(Abort), transaction(host_rt.factory) as s:
        enablement.enable(s, host_rt.host, "THA", "ctm", SETTINGS, context(host_rt, s, "THA"))
        assert s.get(MissionActivation, "THA") is not None  # visible inside the transaction ...
        raise Abort  # ... and gone with it when the host's change is rolled back
    assert state(host_rt, "THA", "ctm") is None
    assert activation(host_rt, "THA") is None


def test_disable_keeps_settings_and_ctm_data(host_rt) -> None:  # noqa: ANN001
    enable(host_rt, "THA", "ctm", SETTINGS)
    enabled_at = activation(host_rt, "THA").enabled_at

    disable(host_rt, "THA", "ctm", actor=("mai", False))

    row = state(host_rt, "THA", "ctm")
    assert row.enabled is False
    assert row.changed_by == "mai"
    assert opened(row) == SETTINGS
    active = activation(host_rt, "THA")
    assert active is not None
    assert active.enabled_at == enabled_at
    assert active.disabled_at is not None
    with host_rt.factory() as s:
        assert "ctm" not in enablement.enabled_plugins(s, "THA")
        assert enablement.enabled_missions(s, "ctm") == ["KHM"]
    # KHM is untouched.
    assert activation(host_rt, "KHM").disabled_at is None


def test_disabling_a_plugin_that_is_not_enabled_is_refused(host_rt) -> None:  # noqa: ANN001
    before = snapshot(host_rt)
    with pytest.raises(EnablementRefused) as refused:
        disable(host_rt, "THA", "ctm")
    assert str(refused.value) == "The plugin ctm is not enabled in mission THA."
    assert snapshot(host_rt) == before


def test_re_enabling_keeps_the_secret_when_it_is_left_blank(host_rt) -> None:  # noqa: ANN001
    enable(host_rt, "THA", "ctm", SETTINGS)
    disable(host_rt, "THA", "ctm")

    enable(host_rt, "THA", "ctm", {**SETTINGS, "soap_username": "ctm-tha-2", "soap_password": ""})

    row = state(host_rt, "THA", "ctm")
    assert row.enabled is True
    assert opened(row) == {**SETTINGS, "soap_username": "ctm-tha-2"}
    assert activation(host_rt, "THA").disabled_at is None  # the CTM picks its mission up again
    with host_rt.factory() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(MissionActivation)) == 2

    # A new secret, when given, replaces the old one.
    enable(host_rt, "THA", "ctm", {**SETTINGS, "soap_password": "a brand new secret"})
    assert opened(state(host_rt, "THA", "ctm"))["soap_password"] == "a brand new secret"


def test_a_blank_secret_is_refused_when_there_is_none_to_keep(host_rt) -> None:  # noqa: ANN001
    with pytest.raises(EnablementRefused) as refused:
        enable(host_rt, "THA", "ctm", {**SETTINGS, "soap_password": ""})
    assert list(refused.value.field_errors) == ["soap_password"]


# -- two administrators at once, and a plugin refusing to be disabled ----------------------


def test_two_administrators_enabling_at_once_get_a_clear_refusal_not_an_error(host_rt, monkeypatch) -> None:  # noqa: ANN001
    plain = HookedPlugin("plain")
    host_rt.host.register(plain, "plain")
    real_state = enablement._state
    raced: list[str] = []

    def state_then_the_other_admin_commits(session, mission_code: str, plugin_name: str):  # noqa: ANN001, ANN202
        found = real_state(session, mission_code, plugin_name)
        if not raced:
            raced.append(mission_code)
            enable(host_rt, mission_code, plugin_name, {}, actor=("ana", True))  # in its own transaction
        return found

    monkeypatch.setattr(enablement, "_state", state_then_the_other_admin_commits)
    with pytest.raises(EnablementRefused) as refused:
        enable(host_rt, "THA", "plain", {}, actor=("mai", False))

    assert str(refused.value) == (
        "Someone else changed the plugin plain in mission THA at the same time; reload the page and try again."
    )
    row = state(host_rt, "THA", "plain")
    assert row.enabled and row.changed_by == "ana"  # the first administrator's change stands
    assert plain.enabled_calls == ["THA"]


class StickyPlugin(HookedPlugin):
    """Stands in for a third-party plugin that raises Refusal on disable, which the contract does not foresee."""

    @hookimpl
    def mimosa_mission_disabled(self, mission, ctx) -> None:  # noqa: ANN001
        raise Refusal("Sticky stays.")


def test_a_refusal_raised_on_disable_is_reported_and_nothing_changes(host_rt) -> None:  # noqa: ANN001
    host_rt.host.register(StickyPlugin("sticky"), "sticky")
    enable(host_rt, "THA", "sticky", {})
    before = snapshot(host_rt)

    with pytest.raises(EnablementRefused) as refused:
        disable(host_rt, "THA", "sticky")
    assert str(refused.value) == "Sticky stays."
    assert refused.value.plugin_message is True
    assert snapshot(host_rt) == before


class SessionSpyPlugin(HookedPlugin):
    """Stands in for a third-party plugin that looks at the sessions the host hands it."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.session_missions: list[str] = []

    @hookimpl
    def mimosa_mission_enabled(self, mission, settings, ctx) -> None:  # noqa: ANN001
        with ctx.session_factory() as session:
            self.session_missions.append(session.info["mission_code"])

    @hookimpl
    def mimosa_mission_disabled(self, mission, ctx) -> None:  # noqa: ANN001
        with ctx.session_factory() as session:
            self.session_missions.append(session.info["mission_code"])


def test_the_sessions_a_plugin_gets_are_bound_to_the_mission(host_rt) -> None:  # noqa: ANN001
    spy = SessionSpyPlugin("spy")
    host_rt.host.register(spy, "spy")
    enable(host_rt, "THA", "spy", {})
    disable(host_rt, "THA", "spy")
    enable(host_rt, "KHM", "spy", {})
    assert spy.session_missions == ["THA", "THA", "KHM"]
    with host_rt.factory() as s:
        ctx = context(host_rt, s, "MDA")
    with ctx.session_factory() as session:
        assert session.info["mission_code"] == "MDA"


def test_a_plugins_context_lists_the_missions_where_it_is_enabled_with_their_countries(demo) -> None:  # noqa: ANN001
    with demo.factory() as s:
        tha = s.get(Mission, "THA")
        served, _ = build_context(s, demo.host, demo.factory, tha, None, "en", plugin="ctm")
        several, _ = build_context(s, demo.host, demo.factory, tha, None, "en")
        s.get_one(PluginEnablement, _ctm_in(s, "KHM")).enabled = False
        s.flush()
        after, _ = build_context(s, demo.host, demo.factory, tha, None, "en", plugin="ctm")
    assert [(m.code, m.country) for m in served.plugin_missions] == [("KHM", "KHM"), ("THA", "THA")]
    assert several.plugin_missions == ()  # a hook for several plugins: no plugin is served
    assert [m.code for m in after.plugin_missions] == ["THA"]  # MDA never enabled it, KHM no longer does


def test_a_plugins_page_starts_from_its_settings_and_missions_read_in_one_statement(demo) -> None:  # noqa: ANN001
    """What a plugin's page starts from (the plugins enabled in the mission, the plugin's settings there, the
    missions where it is enabled) costs it one round trip; where the plugin is not enabled, it gets none of it."""
    statements: list[str] = []

    def executed(_conn, _cursor, statement: str, *_args) -> None:  # noqa: ANN001, ANN002
        statements.append(statement)

    with demo.factory() as s:
        tha, mda = s.get(Mission, "THA"), s.get(Mission, "MDA")
        sa.event.listen(demo.engine, "before_cursor_execute", executed)
        try:
            served, enabled = build_context(s, demo.host, demo.factory, tha, None, "en", plugin="ctm")
        finally:
            sa.event.remove(demo.engine, "before_cursor_execute", executed)
        unserved, elsewhere = build_context(s, demo.host, demo.factory, mda, None, "en", plugin="ctm")
        assert served.settings == enablement.plugin_settings(s, "THA", "ctm")
        assert enabled == enablement.enabled_plugins(s, "THA") & set(demo.host.active_names)
        assert elsewhere == enablement.enabled_plugins(s, "MDA") & set(demo.host.active_names)
    assert len(statements) == 1, statements
    assert served.settings["case_number_prefix"] == "THA-CT" and "ctm" in enabled
    assert [m.code for m in served.plugin_missions] == ["KHM", "THA"]
    assert (unserved.settings, unserved.plugin_missions, "ctm" in elsewhere) == ({}, (), False)


def _ctm_in(s, code: str) -> int:  # noqa: ANN001
    return s.scalar(sa.select(PluginEnablement.id).filter_by(mission_code=code, plugin_name="ctm"))
