"""``ctm`` as an integrator uses it: mapping tools anywhere, sync and outbox under ``mimosa-host ctm``."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from world import OPENED, World

from ctm_plugin.cli import main as ctm
from ctm_plugin.domain.sync import OutboxMessage
from ctm_plugin.mappings.engine import DEFAULT_DIR
from ctm_plugin.services import people, returns
from mimosa_host.cli import main as host_cli

SAMPLE = Path(__file__).resolve().parents[2] / "ctm_plugin" / "mappings" / "testdata" / "beneficiary.xml"
BENEFICIARY = DEFAULT_DIR / "beneficiary.toml"


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(ctm, list(args))
    return result.exit_code, result.output


# -- mappings ------------------------------------------------------------------------------------


def test_validate_checks_the_defaults_and_names_file_field_and_line_of_a_bad_one(tmp_path: Path):
    code, output = run("mappings", "validate")
    assert code == 0 and "the beneficiary mapping, version 1, is valid." in output
    bad = tmp_path / "bad.toml"
    bad.write_text(BENEFICIARY.read_text().replace('converter = "date"', 'converter = "daet"', 1))
    line = next(n for n, text in enumerate(bad.read_text().splitlines(), 1) if "daet" in text)
    code, output = run("mappings", "validate", str(bad))
    assert code == 1
    assert f"{bad}:{line}: fields.birth_date.converter: Unknown converter daet" in output


def test_test_maps_a_sample_and_prints_the_record():
    code, output = run("mappings", "test", str(BENEFICIARY), "--sample", str(SAMPLE))
    assert code == 0, output
    assert "birth_date = 1998-01-01" in output and "birth_date_precision = Year" in output
    assert "gender = Feminine" in output and "languages = [vie, tha]" in output


@pytest.fixture
def listener():  # noqa: ANN201
    """A loopback socket that counts connections: hostile XML must not make the tools reach out."""
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.2)
    yield server
    server.close()


def test_test_refuses_hostile_samples_without_reaching_anything(tmp_path: Path, listener):  # noqa: ANN001
    port = listener.getsockname()[1]
    canary = tmp_path / "canary.txt"
    canary.write_text("CANARY-42")
    hostile = {
        "doctype": f'<!DOCTYPE b [<!ENTITY x SYSTEM "file://{canary}">]><b>&x;</b>',
        "external-dtd": f'<!DOCTYPE b SYSTEM "http://127.0.0.1:{port}/x.dtd"><b/>',
        "bomb": '<!DOCTYPE b [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;&a;">]><b>&b;</b>',
        "oversized": "<b>" + "x" * (2 * 1024 * 1024) + "</b>",
    }
    for name, xml in hostile.items():
        sample = tmp_path / f"{name}.xml"
        sample.write_text(xml)
        code, output = run("mappings", "test", str(BENEFICIARY), "--sample", str(sample))
        assert code == 1 and "The sample was refused" in output, name
        assert "CANARY-42" not in output
    with pytest.raises(TimeoutError):
        listener.accept()


def test_diff_says_what_changed_between_two_versions(tmp_path: Path):
    changed = tmp_path / "beneficiary-v2.toml"
    text = BENEFICIARY.read_text().replace("version = 1", "version = 2", 1)
    changed.write_text(text.replace('X = "NonConforming"', 'X = "NonSpecifiedUnknown"', 1))
    code, output = run("mappings", "diff", str(BENEFICIARY), str(changed))
    assert code == 1, output
    assert "version" in output and "gender" in output and "NonConforming" in output
    assert run("mappings", "diff", str(BENEFICIARY), str(BENEFICIARY)) == (0, "No differences.\n")


def test_sync_commands_need_the_host(tmp_path: Path):
    code, output = run("sync", "status", "--mission", "THA")
    assert code == 1 and "mimosa-host ctm" in output


# -- under mimosa-host: sync and outbox ---------------------------------------------------------


@pytest.fixture
def host(w: World, database_url: str):  # noqa: ANN201
    def invoke(*args: str, answer: str | None = None) -> tuple[int, str]:
        result = CliRunner().invoke(host_cli, ["--database", database_url, "ctm", *args], input=answer)
        return result.exit_code, result.output

    return invoke


def test_status_and_pull_and_the_outbox_from_the_command_line(w: World, connected, host):  # noqa: ANN001
    case_id = people.open_from_host(w.ctx("caseworker"), "BEN-1000001", {"opened_on": OPENED})
    w.prepare(case_id)
    returns.book_return(w.ctx("movement"), case_id, w.booking_form(case_id))

    code, output = host("sync", "status", "--mission", "THA")
    assert code == 0 and "pending    1" in output and "feed beneficiaries: not read yet" in output
    code, output = host("sync", "pull", "--mission", "THA")
    assert code == 0 and "1 case(s) refreshed" in output

    with w.rt.factory() as s, s.begin():  # a booking the host refuses: it fails with the host's message
        message = s.scalars(sa.select(OutboxMessage)).one()
        message.payload = message.payload.replace("BEN-1000001", "BEN-9999999")
    w.relay()
    code, output = host("outbox", "list", "--mission", "THA", "--status", "failed")
    assert code == 0 and "BookMovement" in output and "failed" in output and "attempts=1" in output
    assert host("outbox", "retry", "--mission", "THA", str(message.id), "--yes")[0] == 0
    assert w.one(OutboxMessage, id=message.id).status == "pending"
    assert host("outbox", "discard", "--mission", "THA", str(message.id), "--yes")[0] == 0
    code, output = host("outbox", "retry", "--mission", "THA", str(message.id), "--yes")
    assert code == 1 and f"message {message.id} is discarded: nothing to retry" in output
    code, output = host("sync", "status", "--mission", "MDA")
    assert code == 1 and "not enabled in a mission 'MDA'" in output


def test_outbox_retry_and_discard_take_filters_and_ask_before_acting(w: World, connected, host):  # noqa: ANN001
    from ctm_plugin.adapters.mimosa.client import Connection, HostClient

    for person in ("BEN-1000006", "BEN-1000007"):
        case_id = people.open_from_host(w.ctx("caseworker"), person, {"opened_on": OPENED})
        w.prepare(case_id)
        returns.book_return(w.ctx("movement"), case_id, w.booking_form(case_id))
    w.relay(client=HostClient(Connection("http://127.0.0.1:9/", "ctm-tha", "x")))  # both pending, backing off

    code, output = host(
        "outbox", "retry", "--mission", "THA", "--status", "pending", "--operation", "BookMovement", answer="n\n"
    )
    assert code == 1 and "retry 2 message(s) of THA? [y/N]" in output
    assert {m.attempts for m in w.all(OutboxMessage)} == {1}  # declined: nothing done
    code, output = host("outbox", "list", "--mission", "THA", "--older-than", "2h")
    assert code == 0 and output == ""
    code, output = host("outbox", "discard", "--mission", "THA", "--older-than", "2x", "--yes")
    assert code == 2 and "not a duration" in output
    code, output = host("outbox", "retry", "--mission", "THA", "--status", "pending", "--yes")
    assert code == 0 and output.count(": sent again") == 2
    assert {m.attempts for m in w.all(OutboxMessage)} == {0}
    code, output = host("outbox", "discard", "--mission", "THA", "--status", "failed", "--yes")
    assert code == 0 and "no message matches" in output


def test_the_outbox_commands_show_and_act_on_cancellations(w: World, connected, host):  # noqa: ANN001
    from ctm_plugin.services import cancellations

    case_id = people.open_from_host(w.ctx("caseworker"), "BEN-1000001", {"opened_on": OPENED})
    w.prepare(case_id)
    booking = returns.book_return(w.ctx("movement"), case_id, w.booking_form(case_id))
    form = {"version": w.version(case_id), "reason": "DOCUMENTS"}
    message_id = cancellations.cancel_return(w.ctx("movement"), case_id, booking, form)
    code, output = host("outbox", "list", "--mission", "THA", "--operation", "CancelMovement")
    assert code == 0 and output.split()[:3] == [str(message_id), "CancelMovement", "pending"]
    code, output = host("outbox", "discard", "--mission", "THA", "--operation", "CancelMovement", "--yes")
    assert code == 0 and f"message {message_id}: discarded" in output
    assert w.one(OutboxMessage, id=message_id).status == "discarded"
    code, output = host("outbox", "retry", "--mission", "THA", "--operation", "CancelMovement", "--yes")
    assert code == 0 and "no message matches" in output  # a discarded cancellation stays discarded


def test_the_demos_hand_over_is_proposed_in_tha_and_accepted_in_khm_once(w: World, host):  # noqa: ANN001
    from ctm_plugin.domain.case import Case
    from ctm_plugin.domain.handover import Handover

    code, output = host("demo", "handover")
    assert code == 0 and "accepted in KHM" in output, output
    row = w.one(Handover)
    assert (row.from_mission, row.to_mission, row.state) == ("THA", "KHM", "accepted")
    assert w.one(Case, id=row.receiving_case_id).mission_code == "KHM"
    assert row.proposed_by == row.decided_by == "demo-seed"
    code, output = host("demo", "handover")
    assert code == 0 and "there already" in output and len(w.all(Handover)) == 1


def test_the_demos_cases_fill_the_lists_with_every_stage_once(w: World, host):  # noqa: ANN001
    from ctm_plugin.services import case_list

    for story in ("handover", "reintegration", "cases"):
        code, output = host("demo", story)
        assert code == 0, output
    assert "6 THA cases seeded" in output
    tha = case_list.list_cases(w.ctx("caseworker"), {}).rows
    assert {row.stage for row in tha} == {"screening", "assistance", "return", "handover"}
    assert {row.status for row in tha} >= {"Active", "Closed"} and {row.owner for row in tha} >= {"supervisor"}
    khm = case_list.list_cases(w.ctx("khm.caseworker", "KHM"), {"stage": "reintegration"}).rows
    assert [row.beneficiary_id for row in khm] == ["BEN-2000007"]
    assert len(case_list.hq_queue(w.request_ctx("hq"))) == 2  # the two screened cases await HQ
    code, output = host("demo", "cases")
    assert code == 0 and "there already" in output
    assert len(case_list.list_cases(w.ctx("caseworker"), {}).rows) == len(tha)


def test_the_demos_reintegration_case_and_emergency_fund_are_seeded_once(w: World, host):  # noqa: ANN001
    from datetime import timedelta
    from decimal import Decimal

    from ctm_plugin import demo
    from ctm_plugin.domain.case import Case
    from ctm_plugin.domain.fund import FundRequest
    from ctm_plugin.domain.mission_time import mission_today
    from ctm_plugin.domain.reintegration import Disbursement, LedgerEntry, PlanElement, ReintegrationPlan
    from ctm_plugin.services import fund, monitoring

    code, output = host("demo", "reintegration")
    assert code == 0 and "reintegration case" in output and "approved by HQ" in output, output

    case = w.one(Case, beneficiary_id=demo.REINTEGRATION_PERSON)
    khm_today = mission_today(w.ctx("khm.caseworker", "KHM").settings)
    assert case.mission_code == "KHM" and case.opened_on == khm_today - timedelta(days=demo.RETURNED_DAYS_AGO)
    assert w.one(ReintegrationPlan, case_id=case.id).agreed_recorded_by == "khm.caseworker"
    elements = w.all(PlanElement, case_id=case.id)
    assert [e.type for e in elements] == ["VocationalTraining", "SelfEmployment", "Psychological"]
    assert {e.provider_kind for e in elements} == {"NGO", "IOM", "Government"}  # KHM's own providers
    paid = [(d.state, d.requested_by, d.decided_by) for d in w.all(Disbursement, case_id=case.id)]
    assert paid == [("paid", "khm.caseworker", "supervisor"), ("approved", "khm.caseworker", "supervisor")]

    seen = monitoring.monitoring_of_case(w.ctx("khm.caseworker", "KHM"), case.id)
    scores = [
        (*(str(row.scores[d]) for d in ("economic", "social", "psychosocial")), str(row.overall))
        for row in seen.surveys
    ]
    assert scores == [
        ("0.28", "0.50", "0.50", "0.41"),
        ("0.58", "0.88", "1.00", "0.79"),  # the scores rise...
        ("0.08", "0.88", "0.60", "0.47"),  # ...then fall: the one fall the chart flags
    ]
    assert [row.fell for row in seen.surveys] == [[], [], ["economic", "psychosocial"]]
    assert [(s.month, s.state) for s in seen.schedule] == [(3, "done"), (6, "done"), (12, "done")]
    [alert] = monitoring.alerts(w.ctx("supervisor", "KHM"))
    assert (alert.beneficiary_id, alert.risk_count) == (demo.REINTEGRATION_PERSON, 3)

    state = fund.fund_state(w.request_ctx("hq"))
    assert state.balance == Decimal(demo.FUND_TOP_UP) - Decimal(demo.FUND_REQUEST)
    assert [e.kind for e in state.entries] == ["approval", "top_up"]
    [request] = fund.hq_requests(w.request_ctx("hq"))
    assert (request.mission.code, request.state, request.requested_by) == ("THA", "approved", "caseworker")
    tha_case = w.one(Case, beneficiary_id=demo.FUND_PERSON)
    assert (w.one(FundRequest, case_id=tha_case.id).decided_by, tha_case.mission_code) == ("hq", "THA")
    [entry] = w.all(LedgerEntry, case_id=tha_case.id)  # the approval in the case's ledger, for THA to pay
    assert (entry.kind, entry.amount, entry.project_code) == ("approval", Decimal("850"), fund.FUND_PROJECT)

    before = w.snapshot()
    code, output = host("demo", "reintegration")
    assert code == 0 and output.count("there already") == 2, output
    assert w.snapshot() == before


def test_a_refused_step_leaves_nothing_of_the_demos_story(w: World, host):  # noqa: ANN001
    from world import set_ctm_settings

    set_ctm_settings(w.rt, "KHM", reintegration_providers=None)  # the plan's elements are refused, the case was opened
    before = w.snapshot()
    code, output = host("demo", "reintegration")
    assert code == 1 and "nothing of it saved" in output and "provider" in output, output
    assert w.snapshot() == before


def test_the_demos_case_with_work_waiting_is_seeded_once_and_shows_on_the_due_list(w: World, host):  # noqa: ANN001
    from ctm_plugin import demo
    from ctm_plugin.services import due

    code, output = host("demo", "due")
    assert code == 0 and "1 overdue" in output, output
    items = due.due_list(w.ctx("caseworker"))
    assert [(i.kind, i.overdue) for i in items] == [  # the referral's answer was due a week ago
        (due.REFERRAL, True),
        (due.FOLLOW_UP, True),
        (due.FOLLOW_UP, False),
    ]
    assert {i.params.get("record_ref") for i in items} == {demo.DUE_PERSON}
    code, output = host("demo", "due")
    assert code == 0 and "there already" in output
    assert len(due.due_list(w.ctx("caseworker"))) == 3


def test_the_demos_recruiter_links_two_tha_cases_and_a_khm_case_once(w: World, host):  # noqa: ANN001
    from ctm_plugin.services import intelligence

    code, output = host("demo", "intelligence")
    assert code == 0 and "2 THA cases sharing a recruiter" in output and "1 KHM cases" in output, output
    found = intelligence.read(w.request_ctx("analyst"))
    recruiter = next(e for e in found.shared if e.ref == "perpetrator:madam lek")
    assert sorted(c.mission for c in recruiter.cases) == ["KHM", "THA", "THA"]
    code, output = host("demo", "intelligence")
    assert code == 0 and output.count("there already") == 2


def test_the_demos_partner_has_an_agreement_in_force_and_a_version_awaiting_hq_once(w: World, host):  # noqa: ANN001
    from ctm_plugin.services import partners

    code, output = host("demo", "partners")
    assert code == 0 and "agreement 1 in force, 2 awaiting HQ" in output, output
    [shelter] = partners.partners_of_mission(w.request_ctx("admin"))
    file = partners.partner_file(w.request_ctx("admin"), shelter.id)
    assert [(a.version, a.status) for a in file.agreements] == [(2, "draft"), (1, "approved")]
    assert [(x.operation, x.agreement_version, x.outcome) for x in file.exchanges] == [
        ("SubmitReferral", 1, "accepted")
    ]
    assert file.credentials == []  # the administrator issues it: its secret is shown once
    [awaiting] = partners.hq_drafts(w.request_ctx("hq"))
    assert (awaiting.agreement.version, awaiting.in_force.version if awaiting.in_force else None) == (2, 1)
    code, output = host("demo", "partners")
    assert code == 0 and "there already" in output
