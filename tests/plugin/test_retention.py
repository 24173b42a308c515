"""Retention: a case closed past the mission's retention goes with everything under it, a younger one and an
open one stay; money keeps its amounts; a dry run reports the same counts and changes nothing; the outbox
keeps no payload of a final message past its days; the purge is audited with counts only."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from test_handover import handed_over
from world import KHM_PERSON, THA_OTHER_PERSON, THA_PERSON, World, set_ctm_settings

from ctm_plugin.domain.audit import AuditEvent
from ctm_plugin.domain.case import Case
from ctm_plugin.domain.due import FollowUp
from ctm_plugin.domain.fund import FundRequest
from ctm_plugin.domain.handover import Handover
from ctm_plugin.domain.models import Base as CtmBase
from ctm_plugin.domain.models import utcnow
from ctm_plugin.domain.process import Perpetrator, TraffickingEvent
from ctm_plugin.domain.reintegration import Disbursement, LedgerEntry, PlanElement
from ctm_plugin.domain.sync import OutboxMessage, new_reference
from ctm_plugin.services import retention
from mimosa_host.cli import main as host_cli

THIRD_PERSON, FOURTH_PERSON = "BEN-1000004", "BEN-1000006"
MARKER = "Synthetic-Marker-Story-7741"


def _years_ago(years: int) -> date:
    return date.today() - timedelta(days=round(365.25 * years))


def _case(w: World, person: str, *, closed_years_ago: int | None, mission: str = "THA") -> int:
    """A case with a story under it (the process, a perpetrator, a follow-up), closed that many years ago."""
    case_id = w.open(person, mission=mission)
    with w.rt.factory() as s, s.begin():
        case = s.get(Case, case_id)
        if closed_years_ago is not None:
            case.status, case.close_reason, case.status_reason = "Closed", "GoalsMet", MARKER
            case.closed_on = _years_ago(closed_years_ago)
        event = TraffickingEvent(mission_code=mission, case_id=case_id, sequence=1, type="Recruitment", notes=MARKER)
        s.add(Perpetrator(mission_code=mission, case_id=case_id, alias=MARKER, events=[event]))
        s.add(
            FollowUp(
                mission_code=mission,
                case_id=case_id,
                due_on=date.today(),
                owner="caseworker",
                note=MARKER,
                created_by="caseworker",
            )
        )
    return case_id


def _rows_of(w: World, case_id: int) -> dict[str, int]:
    """How many rows of each CTM table hang under the case (by ``case_id``), the case itself included; its
    audit events name the case without hanging under it (they stay until the trail's own retention)."""
    counts = {}
    with w.rt.engine.connect() as conn:
        for table in CtmBase.metadata.sorted_tables:
            column = table.c.id if table.name == "ctm_case" else table.c.get("case_id")
            if table.name == "ctm_audit_event":
                continue
            if column is not None:
                n = conn.scalar(sa.select(sa.func.count()).select_from(table).where(column == case_id))
                if n:
                    counts[table.name] = n
    return counts


def _counts(report: retention.Report) -> dict[str, int]:
    return {line.code: line.count for line in (*report.lines, report.held)}


def test_a_case_closed_past_retention_goes_with_its_children_a_younger_and_an_open_one_stay(w: World):
    old = _case(w, THA_PERSON, closed_years_ago=11)
    young = _case(w, THA_OTHER_PERSON, closed_years_ago=9)
    still_open = _case(w, THIRD_PERSON, closed_years_ago=None)
    with w.rt.factory() as s, s.begin():  # opened long ago, never closed: never due
        s.get(Case, still_open).opened_on = _years_ago(30)
    assert {"ctm_event", "ctm_perpetrator", "ctm_follow_up", "ctm_person"} <= set(_rows_of(w, old))
    before = w.snapshot()

    due = retention.run(w.job_ctx(), dry_run=True)
    assert due.dry_run and _counts(due)["closed_cases"] == 1
    assert next(line for line in due.lines if line.code == "closed_cases").oldest == _years_ago(11)
    assert w.snapshot() == before  # a dry run changes nothing, and is not audited

    done = retention.run(w.job_ctx())
    assert _counts(done) == _counts(due)  # what the dry run said is what went
    assert _rows_of(w, old) == {}
    assert w.all(Case, id=young) and w.all(Case, id=still_open)
    assert "ctm_event" in _rows_of(w, young)
    last = w.audit_rows()[-1]
    assert (last["action"], last["case_id"], last["username"]) == ("retention.purge", None, "system")
    assert last["field_groups"] == ["closed_cases:1"]
    # The purged case's own audit events stay, with its number, until the audit trail's retention.
    assert any(row["action"] == "case.open" and row["case_id"] == old for row in w.audit_rows())
    assert _counts(retention.run(w.job_ctx(), dry_run=True))["closed_cases"] == 0  # nothing left to do


def test_the_purge_follows_the_missions_setting_and_stays_in_the_mission(w: World):
    young = _case(w, THA_PERSON, closed_years_ago=9)
    khm_old = _case(w, KHM_PERSON, closed_years_ago=20, mission="KHM")
    set_ctm_settings(w.rt, retention_closed_case_years=8)
    assert _counts(retention.run(w.job_ctx()))["closed_cases"] == 1
    assert _rows_of(w, young) == {}
    assert w.all(Case, id=khm_old)  # another mission's case: not THA's to purge


def test_a_case_with_money_keeps_its_amounts_and_loses_the_persons_story(w: World):
    case_id = _case(w, THA_PERSON, closed_years_ago=11)
    with w.rt.factory() as s, s.begin():
        element = PlanElement(
            mission_code="THA",
            case_id=case_id,
            type="Livelihood",
            objective=MARKER,
            provider_kind="NGO",
            provider_name="Hope Foundation",
            start_on=_years_ago(12),
            end_on=_years_ago(11),
            budget=Decimal("500.00"),
            currency="USD",
            status="Completed",
            created_by="caseworker",
        )
        s.add(element)
        s.flush()
        paid = Disbursement(
            mission_code="THA",
            case_id=case_id,
            element_id=element.id,
            amount=Decimal("300.00"),
            currency="USD",
            project_code="THA-CT-01",
            payee="Provider",
            purpose=MARKER,
            state="paid",
            requested_by="caseworker",
        )
        s.add(paid)
        s.flush()
        s.add(
            LedgerEntry(
                mission_code="THA",
                case_id=case_id,
                disbursement_id=paid.id,
                kind="payment",
                amount=Decimal("300.00"),
                currency="USD",
                project_code="THA-CT-01",
                by="supervisor",
                payee="Provider",
                payee_name="Hope Foundation",
            )
        )
    due = _counts(retention.run(w.job_ctx(), dry_run=True))
    assert (due["closed_cases"], due["closed_cases_with_money"]) == (0, 1)

    retention.run(w.job_ctx())
    assert set(_rows_of(w, case_id)) == {"ctm_case", "ctm_plan_element", "ctm_disbursement", "ctm_ledger_entry"}
    entry = w.one(LedgerEntry, case_id=case_id)
    assert (entry.amount, entry.currency, entry.payee_name) == (Decimal("300.00"), "USD", "Hope Foundation")
    assert w.one(Disbursement, case_id=case_id).purpose is None
    assert w.one(PlanElement, case_id=case_id).budget == Decimal("500.00")
    assert MARKER not in repr(w.snapshot())
    assert _counts(retention.run(w.job_ctx(), dry_run=True))["closed_cases_with_money"] == 0


def test_a_case_with_a_fund_request_not_decided_is_held_and_counted(w: World):
    case_id = _case(w, THA_PERSON, closed_years_ago=11)
    with w.rt.factory() as s, s.begin():
        s.add(
            FundRequest(
                mission_code="THA",
                case_id=case_id,
                kind="Medical",
                amount=Decimal("100"),
                currency="USD",
                justification="Synthetic.",
                requested_by="caseworker",
            )
        )
    done = _counts(retention.run(w.job_ctx()))
    assert (done["closed_cases"], done["held_cases"]) == (0, 1)
    assert w.all(Case, id=case_id)


def test_a_handed_over_case_is_held_on_both_sides(w: World):
    away = handed_over(w)
    received = w.one(Handover, case_id=away).receiving_case_id
    with w.rt.factory() as s, s.begin():
        for case in s.scalars(sa.select(Case).where(Case.id.in_((away, received)))):
            case.status, case.close_reason, case.closed_on = "Closed", "GoalsMet", _years_ago(11)
    for mission in ("THA", "KHM"):
        done = _counts(retention.run(w.job_ctx(mission)))
        assert (done["closed_cases"], done["held_cases"]) == (0, 1), mission
    assert w.all(Case, id=away) and w.all(Case, id=received) and w.all(Handover, case_id=away)


def _message(w: World, case_id: int, status: str, days_ago: int, operation: str = "SaveBeneficiary") -> int:
    at = utcnow() - timedelta(days=days_ago)
    with w.rt.factory() as s, s.begin():
        message = OutboxMessage(
            mission_code="THA",
            case_id=case_id,
            operation=operation,
            client_reference=new_reference(),
            payload=f"<Beneficiary><GivenName>{MARKER}</GivenName></Beneficiary>",
            mapping_id="beneficiary",
            mapping_version="1",
            status=status,
            created_by="caseworker",
            created_at=at,
            updated_at=at,
        )
        s.add(message)
        s.flush()
        return message.id


def test_a_final_messages_payload_is_erased_after_the_setting_and_an_open_one_kept(w: World):
    case_id = _case(w, THA_PERSON, closed_years_ago=None)
    done = _message(w, case_id, "done", days_ago=40)
    discarded = _message(w, case_id, "discarded", days_ago=31)
    recent = _message(w, case_id, "done", days_ago=5)
    pending = _message(w, case_id, "pending", days_ago=400)
    assert _counts(retention.run(w.job_ctx(), dry_run=True))["outbox_payloads"] == 2

    assert _counts(retention.run(w.job_ctx()))["outbox_payloads"] == 2
    erased = w.one(OutboxMessage, id=done)
    assert (erased.payload, erased.status, erased.operation) == ("", "done", "SaveBeneficiary")  # the history stays
    assert w.one(OutboxMessage, id=discarded).payload == ""
    assert MARKER in w.one(OutboxMessage, id=recent).payload
    assert MARKER in w.one(OutboxMessage, id=pending).payload  # the relay still needs it
    set_ctm_settings(w.rt, retention_outbox_days=0)
    assert _counts(retention.run(w.job_ctx()))["outbox_payloads"] == 1
    assert w.one(OutboxMessage, id=recent).payload == ""


def test_old_audit_events_are_counted_then_checkpointed_and_purged(w: World):  # needs chain
    with w.rt.factory() as s, s.begin():
        s.add(
            AuditEvent(
                mission_code="THA", username="caseworker", action="case.view", at=utcnow() - timedelta(days=4100)
            )
        )
    assert _counts(retention.run(w.job_ctx(), dry_run=True))["audit_events"] == 1
    assert _counts(retention.run(w.job_ctx()))["audit_events"] == 1
    assert not [row for row in w.audit_rows() if row["at"] < utcnow() - timedelta(days=3700)]


@pytest.fixture
def host(w: World, database_url: str):  # noqa: ANN201
    def invoke(*args: str) -> tuple[int, str]:
        result = CliRunner().invoke(host_cli, ["--database", database_url, "ctm", "retention", *args])
        return result.exit_code, result.output

    return invoke


def test_the_command_prints_counts_and_dates_only_and_its_dry_run_changes_nothing(w: World, host):  # noqa: ANN001
    old = _case(w, THA_PERSON, closed_years_ago=11)
    before = w.snapshot()
    code, output = host("purge", "--mission", "THA", "--dry-run")
    assert code == 0, output
    assert "dry run" in output and f"{'record class':24} {'rows':>7}  {'oldest':10}  what" in output
    assert f"{'closed_cases':24} {1:>7}  {_years_ago(11).isoformat()}  " in output
    assert MARKER not in output and THA_PERSON not in output
    assert w.snapshot() == before

    code, output = host("purge", "--mission", "THA")
    assert code == 0 and "purged" in output and _rows_of(w, old) == {}
    code, output = host("purge", "--mission", "MDA")
    assert code == 1 and "not enabled in a mission 'MDA'" in output


def test_bad_retention_settings_are_refused_naming_the_field_in_the_readers_language(app, login):  # noqa: ANN001
    admin = login("admin")
    admin.get("/m/THA/admin/plugins/ctm")
    admin.post("/locale", {"locale": "fr", "next": "/m/THA/admin/plugins/ctm"})
    admin.get("/m/THA/admin/plugins/ctm")
    settings = {
        "soap_base_url": "https://mimosa.example/",
        "soap_username": "ctm-tha",
        "soap_password": "p",
        "case_number_prefix": "THA-CT",
    }
    for field, value in (("retention_closed_case_years", "0"), ("retention_outbox_days", "-3")):
        response = admin.post("/m/THA/admin/plugins/ctm", {**settings, field: value})
        page = response.get_data(as_text=True)
        assert response.status_code == 422 and f'id="e-{field}"' in page
        assert "Saisissez un nombre entier" in page
