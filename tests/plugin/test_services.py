"""The CTM's use cases on a real database (SQLite and PostgreSQL), through the demo users' contexts.

Each use case is one transaction: it checks the permission, validates the form, checks the
case version, saves, and writes an audit event that names who, what and which case, never
the values. Bad input, a stale version or a missing permission leave the database as it was.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
import sqlalchemy as sa
from world import KHM_PERSON, OPENED, THA_OTHER_PERSON, THA_PERSON, World

from ctm_plugin.domain import palermo
from ctm_plugin.domain.assistance import AssistanceService, Consent, Referral
from ctm_plugin.domain.audit import AuditEvent
from ctm_plugin.domain.case import Case, PersonProfile, VictimContext
from ctm_plugin.domain.process import Perpetrator, TraffickingEvent
from ctm_plugin.domain.scope import MissionScopeViolation, mission_session
from ctm_plugin.domain.screening import Determination, Screening
from ctm_plugin.schemas.base import BEFORE_BIRTH
from ctm_plugin.security.permissions import IDENTITY_VIEW
from ctm_plugin.services import assistance, cases, process, screening
from ctm_plugin.services.base import ClosedCase, Conflict, Invalid, NotFound, get_case, touch, unit_of_work
from mimosa_host.plugin_api import RequestContext


@pytest.fixture
def case_id(w: World) -> int:
    return w.open()


def submitted_values(data: dict[str, Any]) -> set[str]:
    """The values a form carried, long enough that finding one in a row is no coincidence."""
    values = {str(v) for k, v in data.items() if k != "version" and not isinstance(v, list)}
    values |= {str(item) for v in data.values() if isinstance(v, list) for item in v}
    return {v for v in values if len(v) >= 4}


def assert_audit_holds_none_of(w: World, data: dict[str, Any]) -> None:
    sensitive = submitted_values(data)
    for row in w.audit_rows():
        leaked = {s for s in sensitive for value in row.values() if s in str(value)}
        assert leaked == set(), row


# -- Opening a case ----------------------------------------------------------------------------


def test_opening_numbers_the_case_with_the_mission_prefix_and_the_year(w: World):
    first = w.open(THA_PERSON)
    second = w.open(THA_OTHER_PERSON)
    earlier = cases.open_case(w.ctx("caseworker"), "BEN-1000003", {"opened_on": "2025-12-31"})
    in_cambodia = w.open(KHM_PERSON, mission="KHM")
    assert w.one(Case, id=first).case_number == "THA-CT-2026-00001"
    assert w.one(Case, id=second).case_number == "THA-CT-2026-00002"
    assert w.one(Case, id=earlier).case_number == "THA-CT-2025-00001"
    assert w.one(Case, id=in_cambodia).case_number == "KHM-CT-2026-00001"
    case = w.one(Case, id=first)
    assert (case.mission_code, case.beneficiary_id, case.status, case.owner) == (
        "THA",
        THA_PERSON,
        "Active",
        "caseworker",
    )
    assert case.opened_on == date(2026, 2, 3) and case.closed_on is None and case.version == 1


def test_opening_writes_an_audit_event_without_the_values(w: World):
    data = {"opened_on": OPENED}
    case_id = cases.open_case(w.ctx("caseworker"), THA_PERSON, data)
    [event] = w.audit_rows()
    assert (event["action"], event["username"], event["mission_code"], event["case_id"]) == (
        "case.open",
        "caseworker",
        "THA",
        case_id,
    )
    assert event["field_groups"] == []
    assert_audit_holds_none_of(w, {**data, "beneficiary": THA_PERSON})


def test_a_beneficiary_has_one_case_per_mission(w: World, case_id: int):
    before = w.snapshot()
    with pytest.raises(Invalid) as refused:
        w.open(THA_PERSON)
    assert list(refused.value.errors) == ["opened_on"]
    assert w.snapshot() == before
    # The same person may have a case in another mission.
    assert w.open(THA_PERSON, mission="KHM") != case_id


def test_opening_refuses_bad_input_and_users_without_the_permission(w: World):
    before = w.snapshot()
    with pytest.raises(Invalid) as refused:
        cases.open_case(w.ctx("caseworker"), THA_PERSON, {"opened_on": "2999-01-01"})
    assert refused.value.errors == {"opened_on": ["The date cannot be in the future."]}
    with pytest.raises(Invalid) as refused:
        cases.open_case(w.ctx("caseworker"), THA_PERSON, {"opened_on": OPENED, "owner": "hq"})
    assert list(refused.value.errors) == ["owner"]
    for username in ("auditor", "hq", "researcher"):
        with pytest.raises(NotFound):
            cases.open_case(w.ctx(username), THA_PERSON, {"opened_on": OPENED})
    with pytest.raises(NotFound):  # the CTM is not enabled in Moldova
        cases.open_case(w.ctx("caseworker", "MDA"), "BEN-3000001", {"opened_on": OPENED})
    assert w.snapshot() == before


# -- Viewing -----------------------------------------------------------------------------------


def test_each_view_writes_one_audit_event_naming_the_groups_shown(w: World, case_id: int):
    for _ in range(2):
        with cases.viewing(w.ctx("caseworker"), THA_PERSON, "case") as (_session, case):
            assert case.id == case_id and case.person is not None
    with cases.viewing(w.ctx("hq"), THA_PERSON, "case", "screening") as (_session, case):
        assert case.id == case_id
    with cases.viewing(w.ctx("auditor"), THA_PERSON) as (_session, case):
        assert case.id == case_id
    views = [(e["username"], e["case_id"], e["field_groups"]) for e in w.audit_rows() if e["action"] == "case.view"]
    assert views == [
        ("caseworker", case_id, ["case", "identity"]),
        ("caseworker", case_id, ["case", "identity"]),
        ("hq", case_id, ["case", "screening"]),
        ("auditor", case_id, []),
    ]


def test_viewing_a_beneficiary_without_a_case_is_audited_too(w: World):
    with cases.viewing(w.ctx("caseworker"), THA_PERSON, "case") as (_session, case):
        assert case is None
    [event] = w.audit_rows()
    assert (event["action"], event["case_id"], event["mission_code"]) == ("case.view", None, "THA")


def test_a_user_without_case_view_finds_nothing(w: World, case_id: int):
    before = w.snapshot()
    for username, mission in (("researcher", "THA"), ("caseworker", "MDA"), ("khm.caseworker", "THA")):
        with pytest.raises(NotFound), cases.viewing(w.ctx(username, mission), THA_PERSON):
            pytest.fail(f"{username} in {mission} must not see the page")
    assert w.snapshot() == before


# -- Mission scope -----------------------------------------------------------------------------


def test_a_case_of_one_mission_is_invisible_from_another(w: World, case_id: int):
    khm_case = w.open(KHM_PERSON, username="khm.caseworker", mission="KHM")
    tha, khm = w.ctx("caseworker", "THA"), w.ctx("caseworker", "KHM")
    for _ in range(2):  # alternate, so a cached query cannot keep the first mission's criteria
        with cases.viewing(khm, THA_PERSON) as (_session, case):
            assert case is None
        with cases.viewing(tha, THA_PERSON) as (_session, case):
            assert case.id == case_id
        with cases.viewing(tha, KHM_PERSON) as (_session, case):
            assert case is None
    with pytest.raises(NotFound), unit_of_work(khm) as session:
        get_case(session, case_id)
    with pytest.raises(NotFound), unit_of_work(tha) as session:
        get_case(session, khm_case)
    with mission_session(khm) as session:
        assert session.scalars(sa.select(Case)).all() == [session.get(Case, khm_case)]
        assert {e.mission_code for e in session.scalars(sa.select(AuditEvent))} == {"KHM"}


def test_a_mission_session_cannot_write_into_another_mission(w: World, case_id: int):
    before = w.snapshot()
    with mission_session(w.ctx("caseworker", "KHM")) as session:
        session.add(AuditEvent(mission_code="THA", username="caseworker", action="case.view", case_id=case_id))
        with pytest.raises(MissionScopeViolation):
            session.flush()
    with mission_session(w.ctx("caseworker", "THA")) as session:
        session.get(Case, case_id).mission_code = "KHM"
        with pytest.raises(MissionScopeViolation):
            session.flush()
    assert w.snapshot() == before


# -- Every edit use case -----------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Edit:
    """One edit use case: how to call it, a good and a bad form, and what a save must store."""

    run: Callable[[RequestContext, int, dict, dict], Any]
    """(ctx, case id, what prepare made, form) → the use case's result."""
    good: Callable[[dict], dict]
    bad: tuple[dict, str]
    """A form (without version) the use case refuses, and the field it must name."""
    action: str
    stored: Callable[[World, int, dict, Any], None]
    prepare: Callable[[World, int], dict] = lambda _w, _case_id: {}
    user: str = "caseworker"


def _saved(w: World, case_id: int, username: str, use_case: Callable, data: dict, *args: Any) -> Any:
    return use_case(w.ctx(username), case_id, *args, {**data, "version": str(w.version(case_id))})


def _an_event(w: World, case_id: int) -> dict:
    data = {"type": "Recruitment", "country": "KHM", "start_date": "2025-01-05"}
    return {"event_id": _saved(w, case_id, "caseworker", process.add_event, data)}


def _a_consent(purpose: str) -> Callable[[World, int], dict]:
    def prepare(w: World, case_id: int) -> dict:
        data = {"purpose": purpose, "items": ["ConsentedToInterview"], "given_on": "2026-02-05", "method": "Written"}
        return {"consent_id": _saved(w, case_id, "caseworker", assistance.record_consent, data)}

    return prepare


def _closed(w: World, case_id: int) -> dict:
    data = {
        "status": "Closed",
        "close_reason": "GoalsMet",
        "closed_on": "2026-03-01",
        "reason": "Assistance completed.",
    }
    _saved(w, case_id, "caseworker", cases.close_case, data)
    return {}


def _stored_person(w: World, case_id: int, _made: dict, _result: Any) -> None:
    person = _person(w, case_id)
    assert (person.gender, person.languages, person.number_of_children) == ("Feminine", ["khm", "tha"], 1)
    assert (person.birth_date, person.birth_date_precision) == (date(2001, 5, 6), "Day")


def _person(w: World, case_id: int) -> PersonProfile:
    with w.rt.factory() as s:
        return s.get(Case, case_id).person


def _victim(w: World, case_id: int) -> VictimContext:
    with w.rt.factory() as s:
        return s.get(Case, case_id).victim


def _stored_victim(w: World, case_id: int, _made: dict, _result: Any) -> None:
    victim = _victim(w, case_id)
    assert (victim.recruiter_relationship, victim.age_first_trafficked) == ("Family", 16)
    assert victim.exploitation_types == ["ForcedLabour"] and victim.control_methods == ["WithholdsDocuments"]


def _stored_screening(w: World, case_id: int, _made: dict, screening_id: int) -> None:
    saved = w.one(Screening, id=screening_id)
    assert (saved.case_id, saved.place, saved.interviewer, saved.age_at_act) == (case_id, "Shelter Bangkok", "Dara", 30)
    assert (saved.acts, saved.means, saved.purposes) == (["Recruitment"], ["Deception"], ["ForcedLabour"])
    assert (saved.recommendation, saved.recorded_by) == (palermo.VICTIM, "caseworker")


def _stored_determination(w: World, case_id: int, _made: dict, _result: Any) -> None:
    [decision] = w.all(Determination, case_id=case_id)
    assert (decision.previous, decision.decision, decision.decided_by) == (None, palermo.VICTIM, "hq")
    assert decision.reason == "Confirmed at the interview."


def _stored_new_event(w: World, case_id: int, _made: dict, event_id: int) -> None:
    event = w.one(TraffickingEvent, id=event_id)
    assert (event.case_id, event.sequence, event.type, event.locality) == (case_id, 1, "Recruitment", "Poipet")
    assert (event.start_date, event.start_precision, event.end_precision) == (date(2025, 1, 5), "Day", "Unknown")


def _stored_edited_event(w: World, case_id: int, made: dict, _result: Any) -> None:
    event = w.one(TraffickingEvent, id=made["event_id"])
    assert (event.sequence, event.type, event.country, event.locality, event.transport) == (
        1,
        "Transit",
        "THA",
        "Aranyaprathet",
        "Bus",
    )
    assert event.start_date is None  # left blank: cleared


def _stored_perpetrator(w: World, case_id: int, made: dict, perpetrator_id: int) -> None:
    with w.rt.factory() as s:
        perpetrator = s.get(Perpetrator, perpetrator_id)
        assert (perpetrator.case_id, perpetrator.alias, perpetrator.roles) == (case_id, "Big Brother", ["Exploiter"])
        assert [e.id for e in perpetrator.events] == [made["event_id"]]


def _stored_service(w: World, case_id: int, _made: dict, service_id: int) -> None:
    service = w.one(AssistanceService, id=service_id)
    assert (service.case_id, service.type, service.provider, service.status) == (
        case_id,
        "Shelter",
        "Safe House",
        "Ongoing",
    )
    assert service.start_date == date(2026, 2, 10)


def _stored_consent(w: World, case_id: int, _made: dict, consent_id: int) -> None:
    consent = w.one(Consent, id=consent_id)
    assert (consent.case_id, consent.purpose, consent.method, consent.interpreter_used) == (
        case_id,
        "Services",
        "Verbal",
        True,
    )
    assert consent.items == ["ConsentedToInterview", "InformedOfPurpose"] and consent.in_force


def _stored_withdrawal(w: World, _case_id: int, made: dict, _result: Any) -> None:
    consent = w.one(Consent, id=made["consent_id"])
    assert (consent.withdrawn_on, consent.withdrawal_reason, consent.in_force) == (
        date(2026, 3, 1),
        "Changed their mind",
        False,
    )


def _stored_referral(w: World, case_id: int, _made: dict, referral_id: int) -> None:
    referral = w.one(Referral, id=referral_id)
    assert (referral.case_id, referral.direction, referral.organisation, referral.recorded_by) == (
        case_id,
        "Outgoing",
        "Legal Aid Centre",
        "caseworker",
    )


def _stored_closing(w: World, case_id: int, _made: dict, _result: Any) -> None:
    case = w.one(Case, id=case_id)
    assert (case.status, case.status_reason, case.closed_on) == (
        "ClosedReferred",
        "Referred to legal aid",
        date(2026, 4, 1),
    )


def _stored_reopening(w: World, case_id: int, _made: dict, _result: Any) -> None:
    case = w.one(Case, id=case_id)
    assert (case.status, case.status_reason, case.closed_on) == ("Active", "New facts came to light", None)


def _a_service(w: World, case_id: int) -> dict:
    data = {"type": "Shelter", "provider": "Safe House", "status": "Ongoing", "start_date": "2026-02-10"}
    return {"service_id": _saved(w, case_id, "caseworker", assistance.add_service, data)}


def _stored_corrected_service(w: World, _case_id: int, made: dict, _result: Any) -> None:
    service = w.one(AssistanceService, id=made["service_id"])
    assert (service.status, service.start_date, service.end_date) == ("Completed", date(2026, 2, 10), date(2026, 3, 5))
    assert (service.type, service.provider, service.notes) == ("Shelter", "Safe House", None)


def _a_perpetrator(w: World, case_id: int) -> dict:
    made = _an_event(w, case_id)
    data = {"alias": "Big Brother", "roles": ["Exploiter"], "event_ids": [str(made["event_id"])]}
    return {**made, "perpetrator_id": _saved(w, case_id, "caseworker", process.add_perpetrator, data)}


def _stored_corrected_perpetrator(w: World, _case_id: int, made: dict, _result: Any) -> None:
    with w.rt.factory() as s:
        perpetrator = s.get(Perpetrator, made["perpetrator_id"])
        assert (perpetrator.alias, perpetrator.roles, perpetrator.sex) == (
            "Uncle Sok",
            ["RecruiterOrIntermediary", "Transporter"],
            "Masculine",
        )
        assert perpetrator.events == []


SCREENED = {
    "interview_date": "2026-03-01",
    "place": "Shelter Bangkok",
    "interviewer": "Dara",
    "acts": ["Recruitment"],
    "means": [],
    "purposes": ["ForcedLabour"],
}


def _a_screening(w: World, case_id: int) -> dict:
    return {"screening_id": _saved(w, case_id, "caseworker", screening.record_screening, SCREENED)}


def _stored_correction(w: World, case_id: int, made: dict, correction_id: int) -> None:
    earlier, correction = w.one(Screening, id=made["screening_id"]), w.one(Screening, id=correction_id)
    assert (earlier.superseded_by, earlier.age_at_act, earlier.recommendation) == (
        correction_id,
        None,
        palermo.UNDETERMINED,
    )
    assert (correction.case_id, correction.superseded_by, correction.age_at_act) == (case_id, None, 15)
    assert (correction.recorded_by, correction.correction_reason) == ("caseworker", "The age was misheard.")
    assert correction.recommendation == palermo.VICTIM


REFERRAL = {
    "direction": "Outgoing",
    "organisation": "Legal Aid Centre",
    "organisation_type": "LegalService",
    "referred_on": "2026-03-02",
    "reason": "AdditionalServicesRequired",
}

EDITS = {
    "update_person": Edit(
        run=lambda ctx, case_id, _made, data: cases.update_person(ctx, case_id, data),
        good=lambda _made: {
            "gender": "Feminine",
            "languages": ["khm", "tha"],
            "number_of_children": "1",
            "birth_date": "2001-05-06",
            "birth_date_precision": "Day",
        },
        bad=({"gender": "Robot"}, "gender"),
        action="case.person.edit",
        stored=_stored_person,
    ),
    "update_victim": Edit(
        run=lambda ctx, case_id, _made, data: cases.update_victim(ctx, case_id, data),
        good=lambda _made: {
            "recruiter_relationship": "Family",
            "age_first_trafficked": "16",
            "exploitation_types": ["ForcedLabour"],
            "control_methods": ["WithholdsDocuments"],
        },
        bad=({"age_first_trafficked": "200"}, "age_first_trafficked"),
        action="case.victim.edit",
        stored=_stored_victim,
    ),
    "record_screening": Edit(
        run=lambda ctx, case_id, _made, data: screening.record_screening(ctx, case_id, data),
        good=lambda _made: {
            "interview_date": "2026-03-01",
            "place": "Shelter Bangkok",
            "interviewer": "Dara",
            "age_at_act": "30",
            "acts": ["Recruitment"],
            "means": ["Deception"],
            "purposes": ["ForcedLabour"],
        },
        bad=({"interview_date": "2999-01-01", "place": "Office", "interviewer": "Dara"}, "interview_date"),
        action="screening.record",
        stored=_stored_screening,
    ),
    "determine": Edit(
        run=lambda ctx, case_id, _made, data: screening.determine(ctx, case_id, data),
        good=lambda _made: {"decision": "VictimOfTrafficking", "reason": "Confirmed at the interview."},
        bad=({"decision": "Probably", "reason": "Unsure."}, "decision"),
        action="screening.determine",
        stored=_stored_determination,
        user="hq",
    ),
    "add_event": Edit(
        run=lambda ctx, case_id, _made, data: process.add_event(ctx, case_id, data),
        good=lambda _made: {"type": "Recruitment", "country": "KHM", "locality": "Poipet", "start_date": "2025-01-05"},
        bad=({"type": "Transit", "start_date": "2025-02-01", "end_date": "2025-01-31"}, "end_date"),
        action="event.add",
        stored=_stored_new_event,
    ),
    "edit_event": Edit(
        run=lambda ctx, case_id, made, data: process.edit_event(ctx, case_id, made["event_id"], data),
        good=lambda _made: {"type": "Transit", "country": "THA", "locality": "Aranyaprathet", "transport": "Bus"},
        bad=({"type": "Exit", "locality": "Bangkok"}, "exit_mode"),
        action="event.edit",
        stored=_stored_edited_event,
        prepare=_an_event,
    ),
    "add_perpetrator": Edit(
        run=lambda ctx, case_id, _made, data: process.add_perpetrator(ctx, case_id, data),
        good=lambda made: {"alias": "Big Brother", "roles": ["Exploiter"], "event_ids": [str(made["event_id"])]},
        bad=({"alias": "Big Brother", "roles": ["Mastermind"]}, "roles"),
        action="perpetrator.add",
        stored=_stored_perpetrator,
        prepare=_an_event,
    ),
    "add_service": Edit(
        run=lambda ctx, case_id, _made, data: assistance.add_service(ctx, case_id, data),
        good=lambda _made: {
            "type": "Shelter",
            "provider": "Safe House",
            "status": "Ongoing",
            "start_date": "2026-02-10",
        },
        bad=({"type": "Shelter", "provider": "Safe House", "status": "Completed"}, "start_date"),
        action="service.add",
        stored=_stored_service,
    ),
    "edit_service": Edit(
        run=lambda ctx, case_id, made, data: assistance.edit_service(ctx, case_id, made["service_id"], data),
        good=lambda _made: {
            "type": "Shelter",
            "provider": "Safe House",
            "status": "Completed",
            "start_date": "2026-02-10",
            "end_date": "2026-03-05",
        },
        bad=(
            {"type": "Shelter", "provider": "Safe House", "status": "Completed", "start_date": "2026-02-10"},
            "end_date",
        ),
        action="service.edit",
        stored=_stored_corrected_service,
        prepare=_a_service,
    ),
    "edit_perpetrator": Edit(
        run=lambda ctx, case_id, made, data: process.edit_perpetrator(ctx, case_id, made["perpetrator_id"], data),
        good=lambda _made: {
            "alias": "Uncle Sok",
            "roles": ["RecruiterOrIntermediary", "Transporter"],
            "sex": "Masculine",
        },
        bad=({"alias": "Uncle Sok", "roles": []}, "roles"),
        action="perpetrator.edit",
        stored=_stored_corrected_perpetrator,
        prepare=_a_perpetrator,
    ),
    "correct_screening": Edit(
        run=lambda ctx, case_id, made, data: screening.correct_screening(ctx, case_id, made["screening_id"], data),
        good=lambda _made: {**SCREENED, "age_at_act": "15", "reason": "The age was misheard."},
        bad=({**SCREENED, "age_at_act": "15"}, "reason"),
        action="screening.correct",
        stored=_stored_correction,
        prepare=_a_screening,
    ),
    "record_consent": Edit(
        run=lambda ctx, case_id, _made, data: assistance.record_consent(ctx, case_id, data),
        good=lambda _made: {
            "purpose": "Services",
            "items": ["ConsentedToInterview", "InformedOfPurpose"],
            "given_on": "2026-02-03",
            "method": "Verbal",
            "interpreter_used": "yes",
        },
        bad=(
            {"purpose": "Services", "items": ["InformedOfPurpose"], "given_on": "2026-02-03", "method": "Verbal"},
            "items",
        ),
        action="consent.record",
        stored=_stored_consent,
    ),
    "withdraw_consent": Edit(
        run=lambda ctx, case_id, made, data: assistance.withdraw_consent(ctx, case_id, made["consent_id"], data),
        good=lambda _made: {"withdrawn_on": "2026-03-01", "reason": "Changed their mind"},
        bad=({"withdrawn_on": "2026-02-04"}, "withdrawn_on"),  # before it was given
        action="consent.withdraw",
        stored=_stored_withdrawal,
        prepare=_a_consent("Services"),
    ),
    "refer": Edit(
        run=lambda ctx, case_id, _made, data: assistance.refer(ctx, case_id, data),
        good=lambda _made: REFERRAL,
        bad=({**REFERRAL, "organisation_type": "Church"}, "organisation_type"),
        action="referral.add",
        stored=_stored_referral,
        prepare=_a_consent("Referral"),
    ),
    "close_case": Edit(
        run=lambda ctx, case_id, _made, data: cases.close_case(ctx, case_id, data),
        good=lambda _made: {
            "status": "ClosedReferred",
            "close_reason": "Transferred",
            "closed_on": "2026-04-01",
            "reason": "Referred to legal aid",
        },
        bad=(
            {"status": "Closed", "close_reason": "Other", "closed_on": "2026-02-02", "reason": "Opened by mistake"},
            "closed_on",
        ),
        action="case.close",
        stored=_stored_closing,
    ),
    "reopen_case": Edit(
        run=lambda ctx, case_id, _made, data: cases.reopen_case(ctx, case_id, data),
        good=lambda _made: {"reason": "New facts came to light"},
        bad=({"reason": ""}, "reason"),
        action="case.reopen",
        stored=_stored_reopening,
        prepare=_closed,
    ),
}


@pytest.fixture(params=list(EDITS))
def edit(request: pytest.FixtureRequest) -> Edit:
    return EDITS[request.param]


def test_an_edit_is_saved_audited_and_moves_the_version_on(w: World, case_id: int, edit: Edit):
    made = edit.prepare(w, case_id)
    version = w.version(case_id)
    data = edit.good(made)
    result = edit.run(w.ctx(edit.user), case_id, made, {**data, "version": str(version)})
    assert w.version(case_id) == version + 1
    edit.stored(w, case_id, made, result)
    case = w.one(Case, id=case_id)
    assert case.updated_by == edit.user
    last = w.audit_rows()[-1]
    assert (last["action"], last["username"], last["mission_code"], last["case_id"]) == (
        edit.action,
        edit.user,
        "THA",
        case_id,
    )
    assert_audit_holds_none_of(w, data)


def test_refusals_name_the_field_and_save_nothing(w: World, case_id: int, edit: Edit):
    """Bad input, a missing permission, another mission, a stale version: the database stays as it was."""
    made = edit.prepare(w, case_id)
    version = str(w.version(case_id))
    before = w.snapshot()

    data, field = edit.bad
    with pytest.raises(Invalid) as refused:
        edit.run(w.ctx(edit.user), case_id, made, {**data, "version": version})
    assert field in refused.value.errors
    assert all(isinstance(m, str) and m for msgs in refused.value.errors.values() for m in msgs)
    assert w.snapshot() == before, "bad input"

    good = {**edit.good(made), "version": version}
    if edit.action == "screening.determine":  # the auditor may see the case, not decide on it
        with pytest.raises(Invalid) as refused:
            edit.run(w.ctx("auditor"), case_id, made, good)
        assert list(refused.value.errors) == ["decision"]
    else:
        with pytest.raises(NotFound):
            edit.run(w.ctx("auditor"), case_id, made, good)
    for username, mission in ((edit.user, "KHM"), ("researcher", "THA"), (edit.user, "MDA")):
        with pytest.raises(NotFound):
            edit.run(w.ctx(username, mission), case_id, made, good)
    assert w.snapshot() == before, "no permission, or another mission"

    # Two people read the form at the same version: the first save goes through ...
    edit.run(w.ctx(edit.user), case_id, made, good)
    assert w.version(case_id) == int(version) + 1
    # ... the second is a conflict, even where the first changed what it checks (closed, withdrawn).
    before = w.snapshot()
    with pytest.raises(Conflict):
        edit.run(w.ctx(edit.user), case_id, made, good)
    assert w.snapshot() == before, "stale version"


# -- Two people saving the same case at once ---------------------------------------------------


def test_interleaved_saves_of_the_same_version_let_only_the_first_through(w: World, case_id: int):
    """Both sessions pass the version check; the UPDATE of the second finds the version moved on."""
    ctx = w.ctx("caseworker")
    version = w.version(case_id)
    with pytest.raises(Conflict), unit_of_work(ctx) as mine:
        my_case = get_case(mine, case_id)
        touch(my_case, ctx, version)
        with unit_of_work(ctx) as theirs:
            their_case = get_case(theirs, case_id)
            touch(their_case, ctx, version)
            their_case.person.gender = "Masculine"
        my_case.person.gender = "Feminine"
    assert _person(w, case_id).gender == "Masculine"
    assert w.version(case_id) == version + 1


def test_a_true_race_lets_exactly_one_save_through(w: World, case_id: int, monkeypatch: pytest.MonkeyPatch):
    """Two threads load the case at the same version; both pass the check before either saves."""
    ctx = w.ctx("caseworker")
    version = w.version(case_id)
    both_loaded = threading.Barrier(2, timeout=20)
    check_version = cases.touch

    def check_then_wait(case: Case, ctx: RequestContext, expected: int) -> None:
        check_version(case, ctx, expected)
        both_loaded.wait()

    monkeypatch.setattr(cases, "touch", check_then_wait)
    outcomes: dict[str, object] = {}

    def save(gender: str) -> None:
        try:
            cases.update_person(ctx, case_id, {"version": str(version), "gender": gender})
            outcomes[gender] = "saved"
        except Conflict:
            outcomes[gender] = "conflict"
        except Exception as exc:  # reported by the assertion below
            outcomes[gender] = exc

    threads = [threading.Thread(target=save, args=(gender,)) for gender in ("Feminine", "Masculine")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(map(str, outcomes.values())) == ["conflict", "saved"], outcomes
    [winner] = [gender for gender, outcome in outcomes.items() if outcome == "saved"]
    assert _person(w, case_id).gender == winner
    assert w.version(case_id) == version + 1
    assert [e["action"] for e in w.audit_rows()].count("case.person.edit") == 1


# -- Screening and determination ---------------------------------------------------------------


def _screen(w: World, case_id: int, age: int, means: list[str]) -> int:
    data = {
        "interview_date": "2026-03-01",
        "place": "Office",
        "interviewer": "Dara",
        "age_at_act": str(age),
        "acts": ["Recruitment"],
        "means": means,
        "purposes": ["ForcedLabour"],
    }
    return _saved(w, case_id, "caseworker", screening.record_screening, data)


def test_a_screening_stores_the_rules_recommendation_and_reasons(w: World, case_id: int):
    adult = w.one(Screening, id=_screen(w, case_id, 30, []))
    assert adult.recommendation == palermo.NOT_A_VICTIM
    assert adult.reasons == ["ActPresent", "NoMeans", "PurposePresent"]
    child = w.one(Screening, id=_screen(w, case_id, 15, []))
    assert child.recommendation == palermo.VICTIM
    assert child.reasons == ["ActPresent", "ChildNoMeansNeeded", "PurposePresent"]
    assert w.version(case_id) == 3


def test_a_caseworker_may_not_determine(w: World, case_id: int):
    _screen(w, case_id, 30, ["Deception"])
    before = w.snapshot()
    with pytest.raises(Invalid) as refused:
        _saved(w, case_id, "caseworker", screening.determine, {"decision": palermo.VICTIM, "reason": "Clear."})
    assert list(refused.value.errors) == ["decision"]
    assert w.snapshot() == before


def test_determinations_keep_their_history(w: World, case_id: int):
    screening_id = _screen(w, case_id, 30, ["Deception"])
    first = {"decision": palermo.VICTIM, "reason": "All three elements.", "screening_id": str(screening_id)}
    _saved(w, case_id, "hq", screening.determine, first)
    _saved(w, case_id, "hq", screening.determine, {"decision": palermo.NOT_A_VICTIM, "reason": "Recanted."})
    history = w.all(Determination, case_id=case_id)
    assert [(d.previous, d.decision, d.decided_by, d.screening_id) for d in history] == [
        (None, palermo.VICTIM, "hq", screening_id),
        (palermo.VICTIM, palermo.NOT_A_VICTIM, "hq", None),
    ]
    assert all(d.decided_at is not None for d in history)
    with mission_session(w.ctx("hq")) as session:
        assert screening.latest_determination(session, case_id).decision == palermo.NOT_A_VICTIM
    assert _victim(w, case_id).trafficking_status == "NotAVictimOfTrafficking"  # the status follows


def test_a_determination_names_a_screening_of_its_own_case(w: World, case_id: int):
    other_case = w.open(THA_OTHER_PERSON)
    others_screening = _screen(w, other_case, 30, ["Deception"])
    before = w.snapshot()
    for screening_id in (str(others_screening), "99999999", "99999999999999999999"):
        with pytest.raises(Invalid) as refused:
            data = {"decision": palermo.VICTIM, "reason": "x", "screening_id": screening_id}
            _saved(w, case_id, "hq", screening.determine, data)
        assert list(refused.value.errors) == ["screening_id"]
    assert w.snapshot() == before


def _correct(w: World, case_id: int, screening_id: int, **changes: Any) -> int:
    data = {**SCREENED, "reason": "Corrected after a second interview.", **changes}
    return _saved(w, case_id, "caseworker", screening.correct_screening, data, screening_id)


def test_a_corrected_screening_stays_in_the_history_and_only_the_current_one_counts(w: World, case_id: int):
    first = _a_screening(w, case_id)["screening_id"]
    second = _correct(w, case_id, first, age_at_act="15")
    third = _correct(w, case_id, second, age_at_act="16", means=["Deception"])
    with mission_session(w.ctx("caseworker")) as session:
        assert [s.id for s in screening.current_screenings(session, case_id)] == [third]
        assert {k: [s.id for s in v] for k, v in screening.corrections_of(session, case_id).items()} == {
            third: [second, first]
        }
    assert w.one(Screening, id=third).reasons == ["ActPresent", "MeansPresent", "PurposePresent"]

    before = w.snapshot()
    with pytest.raises(NotFound):  # an earlier version is history: it is not corrected again
        _correct(w, case_id, first, age_at_act="17")
    for superseded in (first, second):
        with pytest.raises(Invalid) as refused:
            data = {"decision": palermo.VICTIM, "reason": "x", "screening_id": str(superseded)}
            _saved(w, case_id, "hq", screening.determine, data)
        assert refused.value.errors == {"screening_id": ["Choose a current screening of this case."]}
    assert w.snapshot() == before
    _saved(
        w, case_id, "hq", screening.determine, {"decision": palermo.VICTIM, "reason": "x", "screening_id": str(third)}
    )
    assert w.one(Determination, case_id=case_id).screening_id == third


def test_the_age_at_the_act_comes_from_the_birth_date_and_the_recruitment(w: World, case_id: int):
    _saved(w, case_id, "caseworker", cases.update_person, {"birth_date": "2010-05-06", "birth_date_precision": "Day"})
    _saved(w, case_id, "caseworker", process.add_event, {"type": "Transit", "start_date": "2024-01-01"})
    _saved(w, case_id, "caseworker", process.add_event, {"type": "Recruitment", "start_date": "2025-01-05"})
    derived = w.one(Screening, id=_a_screening(w, case_id)["screening_id"])
    assert (derived.age_at_act, derived.recommendation) == (14, palermo.VICTIM)
    assert derived.reasons == ["ActPresent", "ChildNoMeansNeeded", "PurposePresent"]
    typed = _saved(w, case_id, "caseworker", screening.record_screening, {**SCREENED, "age_at_act": "19"})
    assert w.one(Screening, id=typed).age_at_act == 19  # what the interviewer typed is kept
    # A user who may not see the birth date learns nothing from it, not even an age.
    caseworker = w.ctx("caseworker")
    no_identity = dataclasses.replace(caseworker, permissions=caseworker.permissions - {IDENTITY_VIEW})
    blind = screening.record_screening(no_identity, case_id, {**SCREENED, "version": str(w.version(case_id))})
    assert w.one(Screening, id=blind).age_at_act is None


def test_a_person_of_unknown_age_believed_a_child_is_presumed_one(w: World, case_id: int):
    believed = _saved(w, case_id, "caseworker", screening.record_screening, {**SCREENED, "believed_child": "on"})
    saved = w.one(Screening, id=believed)
    assert (saved.age_at_act, saved.believed_child, saved.recommendation) == (None, True, palermo.VICTIM)
    assert saved.reasons == ["ActPresent", "PresumedChild", "PurposePresent"]
    unsure = w.one(Screening, id=_a_screening(w, case_id)["screening_id"])
    assert (unsure.believed_child, unsure.recommendation) == (False, palermo.UNDETERMINED)


# -- The trafficking process -------------------------------------------------------------------


def test_events_follow_each_other_in_the_order_they_are_added(w: World, case_id: int):
    for event_type in ("Recruitment", "Transit", "Exploitation"):
        _saved(w, case_id, "caseworker", process.add_event, {"type": event_type})
    with mission_session(w.ctx("caseworker")) as session:
        events = process.events_of(session, case_id)
        assert [(e.sequence, e.type) for e in events] == [(1, "Recruitment"), (2, "Transit"), (3, "Exploitation")]
    assert w.version(case_id) == 4
    # Another case numbers its own events from 1.
    other_case = w.open(THA_OTHER_PERSON)
    event_id = _saved(w, other_case, "caseworker", process.add_event, {"type": "Transit"})
    assert w.one(TraffickingEvent, id=event_id).sequence == 1


def test_an_exit_event_needs_its_way_out(w: World, case_id: int):
    before = w.snapshot()
    with pytest.raises(Invalid) as refused:
        _saved(w, case_id, "caseworker", process.add_event, {"type": "Exit"})
    assert list(refused.value.errors) == ["exit_mode"]
    assert w.snapshot() == before
    event_id = _saved(w, case_id, "caseworker", process.add_event, {"type": "Exit", "exit_mode": "Hotline"})
    assert w.one(TraffickingEvent, id=event_id).exit_mode == "Hotline"


def test_an_event_of_another_case_cannot_be_edited_through_this_one(w: World, case_id: int):
    other_case = w.open(THA_OTHER_PERSON)
    others_event = _an_event(w, other_case)["event_id"]
    before = w.snapshot()
    with pytest.raises(NotFound):
        _saved(w, case_id, "caseworker", process.edit_event, {"type": "Transit"}, others_event)
    assert w.snapshot() == before


def test_a_perpetrator_is_linked_to_events_of_its_own_case_only(w: World, case_id: int):
    own = [_an_event(w, case_id)["event_id"], _an_event(w, case_id)["event_id"]]
    other_case = w.open(THA_OTHER_PERSON)
    others_event = _an_event(w, other_case)["event_id"]
    before = w.snapshot()
    for event_ids in ([own[0], others_event], [others_event], [123456789]):
        data = {"roles": ["Exploiter"], "event_ids": [str(i) for i in event_ids]}
        with pytest.raises(Invalid) as refused:
            _saved(w, case_id, "caseworker", process.add_perpetrator, data)
        assert list(refused.value.errors) == ["event_ids"]
    assert w.snapshot() == before
    perpetrator_id = _saved(
        w, case_id, "caseworker", process.add_perpetrator, {"roles": ["Exploiter"], "event_ids": [str(i) for i in own]}
    )
    with w.rt.factory() as s:
        assert sorted(e.id for e in s.get(Perpetrator, perpetrator_id).events) == sorted(own)


def test_a_user_without_the_identity_permission_cannot_record_an_alias(w: World, case_id: int):
    caseworker = w.ctx("caseworker")
    no_identity = dataclasses.replace(caseworker, permissions=caseworker.permissions - {IDENTITY_VIEW})
    data = {"alias": "Big Brother", "roles": ["RecruiterOrIntermediary"], "sex": "Masculine"}
    without = process.add_perpetrator(no_identity, case_id, {**data, "version": str(w.version(case_id))})
    with_identity = _saved(w, case_id, "caseworker", process.add_perpetrator, data)
    assert w.one(Perpetrator, id=without).alias is None
    assert w.one(Perpetrator, id=without).sex == "Masculine"
    assert w.one(Perpetrator, id=with_identity).alias == "Big Brother"
    # Correcting the perpetrator, such a user leaves the alias they cannot see as it was.
    corrected = {"version": str(w.version(case_id)), "alias": "Forged", "roles": ["Exploiter"]}
    process.edit_perpetrator(no_identity, case_id, with_identity, corrected)
    assert (w.one(Perpetrator, id=with_identity).alias, w.one(Perpetrator, id=with_identity).roles) == (
        "Big Brother",
        ["Exploiter"],
    )
    # Nor can such a user change the birth date, which is an identity field.
    _saved(w, case_id, "caseworker", cases.update_person, {"birth_date": "2001-05-06", "birth_date_precision": "Day"})
    version = str(w.version(case_id))
    cases.update_person(
        no_identity,
        case_id,
        {"version": version, "gender": "Feminine", "birth_date": "1999-01-01", "birth_date_precision": "Year"},
    )
    person = _person(w, case_id)
    assert (person.gender, person.birth_date, person.birth_date_precision) == ("Feminine", date(2001, 5, 6), "Day")


def test_dates_before_the_persons_birth_are_refused(w: World, case_id: int):
    _saved(w, case_id, "caseworker", cases.update_person, {"birth_date": "2001-05-06", "birth_date_precision": "Day"})
    before = w.snapshot()
    with pytest.raises(Invalid) as refused:
        _saved(w, case_id, "caseworker", process.add_event, {"type": "Recruitment", "start_date": "2001-05-05"})
    assert refused.value.errors == {"start_date": [BEFORE_BIRTH]}
    with pytest.raises(Invalid) as refused:
        data = {"type": "Legal", "provider": "Lawyer", "status": "Ongoing", "start_date": "2000-01-01"}
        _saved(w, case_id, "caseworker", assistance.add_service, data)
    assert refused.value.errors == {"start_date": [BEFORE_BIRTH]}
    assert w.snapshot() == before


# -- Consent and referrals ---------------------------------------------------------------------


def _refer(w: World, case_id: int, direction: str = "Outgoing") -> int:
    return _saved(w, case_id, "caseworker", assistance.refer, {**REFERRAL, "direction": direction})


def test_an_outgoing_referral_needs_the_referral_consent_in_force(w: World, case_id: int):
    before = w.snapshot()
    with pytest.raises(Invalid) as refused:
        _refer(w, case_id)
    assert list(refused.value.errors) == ["direction"]
    assert w.snapshot() == before

    incoming = _refer(w, case_id, "Incoming")  # receiving a referral needs no consent
    assert w.one(Referral, id=incoming).direction == "Incoming"

    _a_consent("Services")(w, case_id)  # consent to another purpose does not cover referral
    with pytest.raises(Invalid):
        _refer(w, case_id)

    consent_id = _a_consent("Referral")(w, case_id)["consent_id"]
    outgoing = _refer(w, case_id)
    assert w.one(Referral, id=outgoing).direction == "Outgoing"

    withdrawal = {"withdrawn_on": "2026-03-05", "reason": "No longer wishes"}
    _saved(w, case_id, "caseworker", assistance.withdraw_consent, withdrawal, consent_id)
    before = w.snapshot()
    after_withdrawal = {**REFERRAL, "referred_on": "2026-03-05"}
    with pytest.raises(Invalid) as refused:
        _saved(w, case_id, "caseworker", assistance.refer, after_withdrawal)
    assert list(refused.value.errors) == ["direction"]
    assert w.snapshot() == before
    _refer(w, case_id)  # dated 2026-03-02, while the consent was in force: still recorded
    assert len(w.all(Referral, case_id=case_id)) == 3


def test_a_consent_is_withdrawn_once_after_it_was_given(w: World, case_id: int):
    consent_id = _a_consent("Referral")(w, case_id)["consent_id"]
    before = w.snapshot()
    with pytest.raises(Invalid) as refused:
        _saved(w, case_id, "caseworker", assistance.withdraw_consent, {"withdrawn_on": "2026-02-04"}, consent_id)
    assert refused.value.errors == {"withdrawn_on": ["Consent cannot be withdrawn before it was given."]}
    assert w.snapshot() == before
    _saved(w, case_id, "caseworker", assistance.withdraw_consent, {"withdrawn_on": "2026-02-05"}, consent_id)
    before = w.snapshot()
    with pytest.raises(Invalid) as refused:
        _saved(w, case_id, "caseworker", assistance.withdraw_consent, {"withdrawn_on": "2026-02-06"}, consent_id)
    assert refused.value.errors == {"withdrawn_on": ["This consent has already been withdrawn."]}
    assert w.snapshot() == before


def test_a_consent_of_another_case_cannot_be_withdrawn_through_this_one(w: World, case_id: int):
    other_case = w.open(THA_OTHER_PERSON)
    consent_id = _a_consent("Referral")(w, other_case)["consent_id"]
    before = w.snapshot()
    with pytest.raises(NotFound):
        _saved(w, case_id, "caseworker", assistance.withdraw_consent, {"withdrawn_on": "2026-03-01"}, consent_id)
    assert w.snapshot() == before


# -- Closing and reopening ---------------------------------------------------------------------


@pytest.mark.parametrize("name", [name for name in EDITS if name not in ("close_case", "reopen_case")])
def test_a_closed_case_takes_no_edit_until_it_is_reopened(w: World, case_id: int, name: str):
    edit = EDITS[name]
    made = edit.prepare(w, case_id)
    _closed(w, case_id)
    before = w.snapshot()
    with pytest.raises(ClosedCase) as refused:
        edit.run(w.ctx(edit.user), case_id, made, {**edit.good(made), "version": str(w.version(case_id))})
    assert refused.value.message == "This case is closed: it is read-only until someone reopens it."
    assert w.snapshot() == before
    _saved(w, case_id, "caseworker", cases.reopen_case, {"reason": "New facts came to light"})
    edit.run(w.ctx(edit.user), case_id, made, {**edit.good(made), "version": str(w.version(case_id))})
    assert w.audit_rows()[-1]["action"] == edit.action


def test_a_case_closes_once_and_reopens_only_when_closed(w: World, case_id: int):
    with pytest.raises(Invalid) as refused:
        _saved(w, case_id, "caseworker", cases.reopen_case, {"reason": "Why not"})
    assert list(refused.value.errors) == ["reason"]
    _closed(w, case_id)
    before = w.snapshot()
    with pytest.raises(Invalid) as refused:
        _saved(
            w,
            case_id,
            "caseworker",
            cases.close_case,
            {"status": "Closed", "close_reason": "GoalsMet", "closed_on": "2026-03-02", "reason": "x"},
        )
    assert list(refused.value.errors) == ["status"]
    assert w.snapshot() == before
