"""PostgreSQL's row-level security (ctm0017), proved with raw SQL as the application's role.

The role is NOSUPERUSER and NOBYPASSRLS (a superuser, and a role with BYPASSRLS, would see every row)
and owns no table: ``mimosa-host db grant`` gives it DML. The demo's stories (a hand-over from THA to
KHM, reintegration and the emergency fund, the due list, cases in every stage, a person identified again and
the plugin-wide matching job, a partner with its agreements) are seeded through the
command line AS that role, so the CTM's sessions, jobs and commands are shown to set the mission
themselves; then raw SQL, outside any session of the CTM, sees the mission set for its transaction and
nothing else, and writes into another mission are refused.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from world import World

from ctm_plugin.domain.case import Case
from ctm_plugin.domain.fund import Fund
from ctm_plugin.domain.scope import hq_reader, mission_session
from ctm_plugin.services.fund import EMERGENCY_FUND_REQUEST
from mimosa_host.cli import main as host_cli
from mimosa_host.runtime import Runtime

ctm0017 = importlib.import_module("ctm_plugin.migrations.versions.ctm0017_row_level_security")

ROLE = "ctm_rls_app"
MISSION_TABLES = (
    *ctm0017.MISSION_ROWS,
    *("ctm_audit_chain_head", "ctm_audit_checkpoint"),  # the chain's: ctm0019
    *("ctm_trend_cell", "ctm_trend_refresh"),  # the trends' counts: ctm0022
    "ctm_trend_published",  # what the trends page reads: ctm0027
    "ctm_trend_release",  # the years published: ctm0033
    "ctm_research_export",  # ctm0023
    "ctm_research_export_case",  # the people an export released: ctm0032
    *("ctm_partner", "ctm_partner_credential", "ctm_sharing_agreement", "ctm_partner_exchange"),  # ctm0028
    *("ctm_partner_nonce", "ctm_inbound_referral", "ctm_partner_followup"),  # the partner service: ctm0030
)
BETWEEN_MISSIONS = ctm0017.BETWEEN_MISSIONS
HQ_TABLES = (*ctm0017.HQ_ROWS, "ctm_retrafficking_match")  # the matches: ctm0024
UNDER_A_ROW = ("ctm_case_handover", "ctm_perpetrator_event")


def app_url(owner_url: str | sa.URL) -> str:
    """``owner_url`` with the application's role as its user (the same password, if the run has one)."""
    return sa.make_url(owner_url).set(username=ROLE).render_as_string(hide_password=False)


def _host(*args: str) -> str:
    result = CliRunner().invoke(host_cli, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def create_application_role(engine: sa.Engine) -> None:
    """The application's role, unless the server has it (roles are the server's), logging in as the owner does."""
    password = str(engine.url.password or "").replace("'", "''")
    login = f"LOGIN PASSWORD '{password}'" if password else "LOGIN"
    with engine.connect() as conn:
        conn.exec_driver_sql(
            f"DO $$ BEGIN CREATE ROLE {ROLE} {login} NOSUPERUSER NOBYPASSRLS;"
            " EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$"
        )
        conn.commit()


def with_the_stories_as_the_application(rt: Runtime) -> None:
    """The application's role, granted, and the demo's stories seeded through it."""
    owner = rt.engine.url.render_as_string(hide_password=False)
    create_application_role(rt.engine)
    as_the_application = ("--database", app_url(owner), "--migration-database", owner)
    assert "row-level security" in _host(*as_the_application, "db", "grant", ROLE)
    for story in ("handover", "reintegration", "due", "cases", "retrafficking", "intelligence", "partners"):
        _host(*as_the_application, "ctm", "demo", story)


pytestmark = [
    pytest.mark.database.with_args(with_the_stories_as_the_application),
    pytest.mark.parametrize("database_url", ["postgresql"], indirect=True),
]


@pytest.fixture
def application(demo: Runtime) -> Iterator[Runtime]:
    """A runtime whose engine connects as the application's role; it migrates as the owner."""
    runtime = Runtime.from_url(app_url(demo.engine.url), host=demo.host, migration_url=str(demo.engine.url))
    yield runtime
    runtime.engine.dispose()


def counts(conn: sa.Connection, tables: tuple[str, ...], where: str = "") -> dict[str, int]:
    return {table: conn.scalar(sa.text(f"SELECT count(*) FROM {table} {where}")) for table in tables}


def in_transaction_of(conn: sa.Connection, mission: str = "", hq: str = "off") -> None:
    conn.execute(
        sa.text("SELECT set_config('ctm.mission', :mission, true), set_config('ctm.hq', :hq, true)"),
        {"mission": mission, "hq": hq},
    )


def test_the_application_role_is_bound_and_owns_nothing(demo: Runtime, application: Runtime):
    with application.engine.connect() as conn:
        assert conn.execute(
            sa.text("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user")
        ).one() == (False, False)
        owned = conn.scalar(
            sa.text("SELECT count(*) FROM pg_tables WHERE tablename LIKE 'ctm%' AND tableowner = current_user")
        )
        assert owned == 0
    with demo.engine.connect() as conn:
        forced = dict(
            conn.execute(
                sa.text("SELECT relname, relforcerowsecurity FROM pg_class WHERE relkind = 'r' AND relname LIKE 'ctm%'")
            ).all()
        )
    assert forced == {
        **{table: True for table in (*MISSION_TABLES, *BETWEEN_MISSIONS, *HQ_TABLES, *UNDER_A_ROW)},
        "ctm_mission": False,  # the activation registry: no mission data (see ctm0017)
    }


def test_raw_sql_with_no_mission_set_sees_nothing(demo: Runtime, application: Runtime):
    every = (*MISSION_TABLES, *BETWEEN_MISSIONS, *HQ_TABLES, *UNDER_A_ROW)
    with demo.engine.connect() as conn:
        held = counts(conn, every)
    assert all(held[table] > 0 for table in ("ctm_case", "ctm_person", "ctm_handover", "ctm_fund_entry")), held
    with application.engine.connect() as conn:
        assert counts(conn, every) == dict.fromkeys(every, 0)


@pytest.mark.parametrize("mission", ["THA", "KHM"])
def test_raw_sql_sees_only_the_mission_set_for_its_transaction(demo: Runtime, application: Runtime, mission: str):
    with demo.engine.connect() as conn:
        own = counts(conn, MISSION_TABLES, f"WHERE mission_code = '{mission}'")
        shared = counts(conn, BETWEEN_MISSIONS, f"WHERE '{mission}' IN (from_mission, to_mission)")
        under = {
            "ctm_case_handover": conn.scalar(
                sa.text(
                    "SELECT count(*) FROM ctm_case_handover JOIN ctm_case ON ctm_case.id = case_id"
                    f" WHERE ctm_case.mission_code = '{mission}'"
                )
            ),
            "ctm_perpetrator_event": conn.scalar(
                sa.text(
                    "SELECT count(*) FROM ctm_perpetrator_event JOIN ctm_perpetrator ON ctm_perpetrator.id ="
                    f" perpetrator_id WHERE ctm_perpetrator.mission_code = '{mission}'"
                )
            ),
        }
        flagged = conn.scalar(  # ctm0031: the matches flagging one of its cases, the consent in force, confirmed
            sa.text(
                "SELECT count(*) FROM ctm_retrafficking_match WHERE earlier_mission = :mission"
                " AND shared_with_earlier AND status = 'confirmed'"
            ),
            {"mission": mission},
        )
    assert own["ctm_case"] > 0 and shared["ctm_handover"] > 0
    with application.engine.connect() as conn:
        in_transaction_of(conn, mission)
        assert counts(conn, MISSION_TABLES) == own
        assert counts(conn, MISSION_TABLES, f"WHERE mission_code <> '{mission}'") == dict.fromkeys(MISSION_TABLES, 0)
        assert counts(conn, BETWEEN_MISSIONS) == shared
        assert counts(conn, UNDER_A_ROW) == under
        assert counts(conn, HQ_TABLES) == dict.fromkeys(HQ_TABLES, 0)  # HQ's matches too: their flags' view alone
        assert counts(conn, ("ctm_retrafficking_flag",)) == {"ctm_retrafficking_flag": flagged}
        conn.commit()
        # The setting ended with its transaction: the next one on the same connection sees nothing.
        assert counts(conn, ("ctm_case",)) == {"ctm_case": 0}


def test_hq_rows_are_seen_only_with_hq_set(demo: Runtime, application: Runtime):
    with demo.engine.connect() as conn:
        held = counts(conn, HQ_TABLES)
    assert held["ctm_retrafficking_match"] == 1  # the matching job, run as the application, wrote HQ's row
    with application.engine.connect() as conn:
        in_transaction_of(conn, hq="on")
        assert counts(conn, HQ_TABLES) == held
        assert counts(conn, ("ctm_case", "ctm_handover")) == {"ctm_case": 0, "ctm_handover": 0}


def test_a_mission_reads_only_the_matches_flagging_its_own_case_and_writes_none(demo: Runtime, application: Runtime):
    """ctm0025/ctm0029/ctm0031: THA (the earlier mission) reads the demo's match's flag (its view's columns, never
    the match) while the job has marked it visible to THA and HQ has confirmed it (not while it is open, nor once
    dismissed); KHM (the later mission) never does; no mission writes it."""
    with demo.engine.connect() as conn:
        (match_id, earlier, shared, status, hqs_reason) = conn.execute(
            sa.text("SELECT id, earlier_mission, shared_with_earlier, status, reason FROM ctm_retrafficking_match")
        ).one()
    assert (earlier, status) == ("THA", "confirmed")  # the demo's HQ confirmed it

    def seen_by(mission: str) -> int:
        with application.engine.connect() as conn:
            in_transaction_of(conn, mission)
            assert conn.scalar(sa.text("SELECT count(*) FROM ctm_retrafficking_match")) == 0  # ctm0031: HQ's rows
            return conn.scalar(sa.text("SELECT count(*) FROM ctm_retrafficking_flag"))  # their flags' columns

    def as_hq_marks(shared_with_earlier: bool, status: str) -> None:
        with demo.engine.begin() as conn:
            conn.execute(
                sa.text("UPDATE ctm_retrafficking_match SET shared_with_earlier = :shared, status = :status"),
                {"shared": shared_with_earlier, "status": status},
            )

    try:
        as_hq_marks(False, "open")
        assert (seen_by("THA"), seen_by("KHM"), seen_by("")) == (0, 0, 0)
        as_hq_marks(True, "open")
        assert (seen_by("THA"), seen_by("KHM"), seen_by("")) == (0, 0, 0)  # open: HQ's alone
        as_hq_marks(True, "confirmed")
        assert (seen_by("THA"), seen_by("KHM"), seen_by("")) == (1, 0, 0)
        with application.engine.connect() as conn:
            in_transaction_of(conn, "THA")
            assert conn.execute(sa.text("UPDATE ctm_retrafficking_match SET reason = 'a mission'")).rowcount == 0
            assert conn.execute(sa.text("DELETE FROM ctm_retrafficking_match")).rowcount == 0
            with pytest.raises(sa.exc.ProgrammingError, match="row-level security"):
                conn.execute(
                    sa.text(
                        "INSERT INTO ctm_retrafficking_match (earlier_mission, earlier_case_id, earlier_case_number,"
                        " earlier_opened_on, later_mission, later_case_id, later_case_number, later_opened_on,"
                        " evidence, score, explanation, shared_with_earlier, status, found_at, version)"
                        " VALUES ('THA', 0, 'THA-X', '2025-01-01', 'THA', 1, 'THA-Y', '2026-01-01', 'document', 1,"
                        " 'same_document', true, 'open', now(), 1)"  # it reads none of HQ's rows to copy (ctm0031)
                    )
                )
        as_hq_marks(True, "dismissed")
        assert seen_by("THA") == 0
    finally:
        as_hq_marks(shared, status)
    with demo.engine.connect() as conn:
        reason = conn.scalar(sa.text("SELECT reason FROM ctm_retrafficking_match WHERE id = :id"), {"id": match_id})
    assert reason == hqs_reason  # no mission's update took


def test_writes_into_another_mission_are_refused(demo: Runtime, application: Runtime):
    with demo.engine.connect() as conn:
        khm_cases = conn.scalar(sa.text("SELECT count(*) FROM ctm_case WHERE mission_code = 'KHM'"))
        khm_case = conn.scalar(sa.text("SELECT min(id) FROM ctm_case WHERE mission_code = 'KHM'"))
    with application.engine.connect() as conn:
        in_transaction_of(conn, "THA")
        assert conn.execute(sa.text("UPDATE ctm_case SET owner = 'intruder' WHERE mission_code = 'KHM'")).rowcount == 0
        assert conn.execute(sa.text("DELETE FROM ctm_case WHERE id = :id"), {"id": khm_case}).rowcount == 0
        with pytest.raises(sa.exc.ProgrammingError, match="row-level security"):
            conn.execute(
                sa.text(
                    "INSERT INTO ctm_case (mission_code, case_number, beneficiary_id, status, owner, opened_on,"
                    " version, updated_at, updated_by) VALUES ('KHM', 'KHM-CT-X', 'BEN-2999999', 'Active',"
                    " 'intruder', '2026-02-03', 1, now(), 'intruder')"
                )
            )
        conn.rollback()
        in_transaction_of(conn, "THA")
        with pytest.raises(sa.exc.ProgrammingError, match="row-level security"):  # a THA row moved to KHM
            conn.execute(sa.text("UPDATE ctm_case SET mission_code = 'KHM' WHERE mission_code = 'THA'"))
        conn.rollback()
        in_transaction_of(conn, "THA")
        assert conn.execute(sa.text("UPDATE ctm_fund SET currency = currency")).rowcount == 0  # HQ's, unseen
    with demo.engine.connect() as conn:
        assert conn.scalar(sa.text("SELECT count(*) FROM ctm_case WHERE mission_code = 'KHM'")) == khm_cases
        assert conn.scalar(sa.text("SELECT count(*) FROM ctm_case WHERE owner = 'intruder'")) == 0


def test_the_ctms_sessions_set_their_scope_for_raw_sql_too(application: Runtime):
    """A mission session's raw SQL sees its mission; an HQ reader's, HQ's rows and no mission's."""
    w = World(application)
    khm = w.ctx("caseworker", "KHM")
    with mission_session(khm) as session:
        missions = session.connection().execute(sa.text("SELECT DISTINCT mission_code FROM ctm_case")).scalars().all()
        assert missions == ["KHM"]
        assert session.scalar(sa.select(sa.func.count()).select_from(Case)) > 0
    with hq_reader(w.ctx("caseworker"), EMERGENCY_FUND_REQUEST) as session:
        assert session.connection().scalar(sa.text("SELECT count(*) FROM ctm_case")) == 0
        assert session.get(Fund, 1) is not None


def test_a_partners_username_is_found_across_missions_by_the_lookup_alone_which_writes_nothing(
    demo: Runtime, application: Runtime
):
    """ctm0028: the partner service finds a UsernameToken's username before it knows the mission; the lookup's
    policy opens partners and credentials for SELECT only, and only in a transaction that sets it."""
    from test_partners import SHELTER

    from ctm_plugin.services import partners

    w = World(application)
    issued = {
        mission: partners.issue_credential(
            w.request_ctx("admin", mission), partners.add_partner(w.request_ctx("admin", mission), SHELTER)
        )
        for mission in ("THA", "KHM")
    }
    for mission, (username, secret) in issued.items():
        with application.factory() as session, session.begin():
            found = partners.credential_for(session, username)
            assert found is not None and (found.mission_code, found.secrets) == (mission, (secret,))
            assert session.connection().scalar(sa.text("SELECT count(*) FROM ctm_partner_credential")) == 0  # off again
    tables = ("ctm_partner", "ctm_partner_credential")
    with demo.engine.connect() as conn:
        held = counts(conn, tables)
    assert held == {"ctm_partner": 3, "ctm_partner_credential": 2}  # the demo's partner has no credential
    with application.engine.connect() as conn:
        assert counts(conn, tables) == dict.fromkeys(tables, 0)
        conn.execute(sa.text("SELECT set_config('ctm.partner_lookup', 'on', true)"))
        assert counts(conn, tables) == held
        assert conn.execute(sa.text("UPDATE ctm_partner SET status = 'active', name = 'intruder'")).rowcount == 0
        assert conn.execute(sa.text("DELETE FROM ctm_partner_credential")).rowcount == 0
        assert counts(conn, ("ctm_sharing_agreement", "ctm_partner_exchange", "ctm_case")) == dict.fromkeys(
            ("ctm_sharing_agreement", "ctm_partner_exchange", "ctm_case"), 0
        )


def test_the_partner_service_knows_a_partner_by_the_lookup_and_works_in_its_mission_as_the_application(
    demo: Runtime, application: Runtime, soap_token
):  # noqa: ANN001
    """ctm0028's lookup is all the partner service needs, as the application's role, to find a username's mission
    before it knows it: a KHM partner's referral lands in KHM under its agreement, its exchange on its page."""
    import zeep
    from lxml import etree
    from partner_rows import NEEDS, partner

    from ctm_plugin.adapters import partner_service
    from mimosa_host.web import create_app

    ngo = partner(application, "KHM")
    client = zeep.Client(str(partner_service.WSDL), wsse=soap_token(ngo.username, ngo.secret))
    service = client.create_service(f"{{{partner_service.NS}}}PartnerBinding", "http://localhost/")
    sent = client.create_message(
        service,
        "SubmitReferral",
        PartnerReference="RLS-1",
        Purpose="ReferralAssistance",
        Fields={"Field": [{"Name": NEEDS, "Value": "shelter"}]},
    )
    answer = (
        create_app(application)
        .test_client()
        .post(f"/machine/ctm{partner_service.PATH}", data=etree.tostring(sent), content_type="text/xml; charset=utf-8")
    )
    assert answer.status_code == 200, answer.data
    with demo.engine.connect() as conn:  # the owner sees every mission's rows
        referrals = conn.execute(sa.text("SELECT mission_code, partner_id, status FROM ctm_inbound_referral")).all()
        assert [tuple(r) for r in referrals] == [("KHM", ngo.id, "pending")]
        exchanged = conn.execute(
            sa.text("SELECT mission_code, outcome, agreement_version FROM ctm_partner_exchange WHERE partner_id = :id"),
            {"id": ngo.id},
        )
        assert [tuple(r) for r in exchanged] == [("KHM", "received", 1)]
