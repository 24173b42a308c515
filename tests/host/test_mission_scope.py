"""A user's HQ scope: ``ctx.missions_with(permission)`` and ``ctx.in_mission(code)`` (plugin_api.RequestContext).

The demo: the CTM is enabled in THA and KHM, not in MDA; ``hq`` holds the HQ programme manager's role in
all three, ``khm.caseworker`` a caseworker's role in KHM only.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, nullcontext

import pytest
import sqlalchemy as sa

from mimosa_host.context import build_context
from mimosa_host.db import SharedConnection
from mimosa_host.models import Mission, User
from mimosa_host.plugin_api import RequestContext

APPROVE = "ctm.emergency_fund.approve"
REQUEST = "ctm.emergency_fund.request"


@contextmanager
def request_of(rt, username: str, mission: str = "THA", plugin: str | None = "ctm") -> Iterator[RequestContext]:  # noqa: ANN001
    """The context a user's request to a CTM page gets: one shared connection, host reads on it too."""
    db = SharedConnection(rt.engine)
    try:
        with db.session() as s:
            user = s.scalar(sa.select(User).where(User.username == username))
            ctx, _enabled = build_context(
                s,
                rt.host,
                db.plugin_session,
                s.get(Mission, mission),
                user,
                "en",
                plugin=plugin,
                host_sessions=db.session,
            )
        yield ctx
    finally:
        db.close()


def _codes(missions) -> list[str]:  # noqa: ANN001
    return [m.code for m in missions]


def test_missions_with_a_permission_are_those_where_the_plugin_is_enabled_and_the_user_holds_it(demo) -> None:  # noqa: ANN001
    with request_of(demo, "hq") as ctx:
        assert _codes(ctx.missions_with(APPROVE)) == ["KHM", "THA"]  # not MDA: the CTM is not enabled there
        assert ctx.missions_with("ctm.no_such_permission") == ()
    with request_of(demo, "khm.caseworker", "KHM") as ctx:
        assert _codes(ctx.missions_with(REQUEST)) == ["KHM"]
        assert ctx.missions_with(APPROVE) == ()
    with request_of(demo, "caseworker") as ctx:
        assert _codes(ctx.missions_with(REQUEST)) == ["KHM", "THA"]


def test_in_mission_is_the_same_user_with_that_missions_permissions_settings_and_sessions(demo) -> None:  # noqa: ANN001
    with request_of(demo, "hq") as ctx:
        khm = ctx.in_mission("KHM")
        assert khm.mission.code == "KHM" and khm.user == ctx.user
        assert khm.can(APPROVE)
        assert khm.settings["case_number_prefix"] != ctx.settings["case_number_prefix"]
        with khm.session_factory() as session:
            assert session.info["mission_code"] == "KHM"
        assert ctx.in_mission("THA") is ctx
        assert khm.in_mission("THA").mission.code == "THA"


def test_in_mission_refuses_a_mission_without_the_plugin_or_without_a_role(demo) -> None:  # noqa: ANN001
    with request_of(demo, "hq") as ctx:
        with pytest.raises(LookupError):
            ctx.in_mission("MDA")  # a role there, but the CTM is not enabled
        with pytest.raises(LookupError):
            ctx.in_mission("NOPE")
    with request_of(demo, "khm.caseworker", "KHM") as ctx, pytest.raises(LookupError):
        ctx.in_mission("THA")  # the CTM is enabled there, but the user holds no role


def test_without_a_users_scope_it_is_the_mission_alone(demo) -> None:  # noqa: ANN001
    with request_of(demo, "hq", plugin=None) as ctx:  # a hook the host calls for several plugins
        assert _codes(ctx.missions_with(APPROVE)) == ["THA"]
        assert ctx.in_mission("THA") is ctx
        with pytest.raises(LookupError):
            ctx.in_mission("KHM")


def _overrides(rt, document: str) -> list[str]:  # noqa: ANN001
    with rt.engine.connect() as conn:
        return list(
            conn.scalars(
                sa.text("SELECT mission_code FROM ctm_mapping_override WHERE document = :d ORDER BY mission_code"),
                {"d": document},
            )
        )


def _write(session, mission: str, document: str) -> None:  # noqa: ANN001
    session.execute(
        sa.text(
            "INSERT INTO ctm_mapping_override (mission_code, revision, document, saved_by, saved_at)"
            " VALUES (:m, 999, :d, 'hq', CURRENT_TIMESTAMP)"
        ),
        {"m": mission, "d": document},
    )


@pytest.mark.parametrize("reads_first", [False, True], ids=["writes-first", "reads-first"])
@pytest.mark.parametrize("fails", [False, True])
def test_a_use_case_writing_in_two_missions_scopes_commits_once(demo, fails: bool, reads_first: bool) -> None:  # noqa: ANN001
    """Also when the outer transaction only read before the inner one joined (on SQLite, the driver
    itself would begin no transaction before a write, and the inner SAVEPOINT's release would commit)."""
    document = f"# both or neither {fails} {reads_first}"
    with request_of(demo, "hq") as ctx:
        khm = ctx.in_mission("KHM")  # its context built before the use case begins
        with (
            pytest.raises(RuntimeError) if fails else nullcontext(),
            ctx.session_factory() as outer,
            outer.begin(),
        ):
            _use_case(demo, outer, khm, document, fails, reads_first)
    assert _overrides(demo, document) == ([] if fails else ["KHM", "THA"])


def _use_case(demo, outer, khm, document: str, fails: bool, reads_first: bool) -> None:  # noqa: ANN001
    """Write in THA's scope (first, or after a read) and in KHM's (a SAVEPOINT of the same transaction)."""
    if reads_first:
        assert _overrides(demo, document) == []
        outer.execute(sa.text("SELECT count(*) FROM ctm_mapping_override")).all()
    else:
        _write(outer, "THA", document)
    with khm.session_factory() as inner, inner.begin():
        assert inner.connection().connection.dbapi_connection is outer.connection().connection.dbapi_connection
        _write(inner, "KHM", document)
    assert _overrides(demo, document) == []  # nothing visible outside before the one commit
    if reads_first:
        _write(outer, "THA", document)
    if fails:
        raise RuntimeError("the use case fails after both writes")


def test_mission_users_are_the_active_users_holding_a_permission_in_that_mission_by_name(demo) -> None:  # noqa: ANN001
    with request_of(demo, "supervisor") as ctx:
        assert [u.display_name for u in ctx.mission_users("ctm.case.edit")] == [
            "Dara Caseworker",
            "Kiri Child Protection Officer",
            "Vichea Supervisor",
        ]  # not khm.caseworker: a caseworker in KHM only
        assert [u.username for u in ctx.in_mission("KHM").mission_users("ctm.case.supervise")] == ["supervisor"]
        assert ctx.mission_users("ctm.no_such_permission") == ()
    with demo.factory() as s, s.begin():
        s.scalar(sa.select(User).where(User.username == "childprotection")).active = False
    with request_of(demo, "supervisor") as ctx:
        assert "childprotection" not in [u.username for u in ctx.mission_users("ctm.case.edit")]


@pytest.mark.parametrize("fails", [False, True])
def test_mission_users_read_in_a_plugins_transaction_leave_it_to_commit_or_roll_back_alone(demo, fails: bool) -> None:  # noqa: ANN001
    """The users are read in the plugin's open transaction (no SAVEPOINT of their own, nothing written), and
    what the plugin wrote before the read is still there after it, and commits, or rolls back, with the rest of
    its work."""
    document = f"# users read meanwhile {fails}"
    statements: list[str] = []

    def executed(_conn, _cursor, statement: str, *_args) -> None:  # noqa: ANN001, ANN002
        statements.append(statement)

    with (
        request_of(demo, "supervisor") as ctx,
        pytest.raises(RuntimeError) if fails else nullcontext(),
        ctx.session_factory() as tha,
        tha.begin(),
    ):
        tha.execute(
            sa.text(
                "INSERT INTO ctm_mapping_override (mission_code, revision, document, saved_by, saved_at)"
                " VALUES ('THA', :revision, :d, 'hq', CURRENT_TIMESTAMP)"
            ),
            {"revision": 990 + fails, "d": document},
        )
        sa.event.listen(demo.engine, "before_cursor_execute", executed)
        try:
            caseworkers = ctx.mission_users("ctm.case.edit")
        finally:
            sa.event.remove(demo.engine, "before_cursor_execute", executed)
        assert (
            tha.execute(
                sa.text("SELECT count(*) FROM ctm_mapping_override WHERE document = :d"), {"d": document}
            ).scalar()
            == 1
        )
        if fails:
            raise RuntimeError("the use case fails after the read")
    assert "caseworker" in [u.username for u in caseworkers]
    assert len(statements) == 1 and "SAVEPOINT" not in statements[0].upper(), statements
    assert _overrides(demo, document) == ([] if fails else ["THA"])


def test_mission_users_without_a_users_scope_is_the_user_alone(demo) -> None:  # noqa: ANN001
    with request_of(demo, "caseworker", plugin=None) as ctx:
        assert ctx.scope is None
        assert [u.username for u in ctx.mission_users("ctm.case.edit")] == ["caseworker"]
        assert ctx.mission_users("ctm.case.supervise") == ()
