"""The hand-over between THA (where the person was identified) and KHM (the mission of origin):
propose, accept or decline, arrival through the host's feed, reception; every refusal leaves
everything as it was, and neither mission reads the other's rows beyond the hand-over."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa
from world import World

from ctm_plugin.domain.case import Case, PersonProfile
from ctm_plugin.domain.handover import Handover, HandoverEvent, ReceptionTask
from ctm_plugin.domain.mission_time import mission_today
from ctm_plugin.domain.preparation import is_child
from ctm_plugin.domain.process import Perpetrator
from ctm_plugin.domain.returns import ReturnBooking
from ctm_plugin.domain.scope import MissionScopeViolation, mission_session
from ctm_plugin.services import cases, feed, handover, process, returns, screening
from ctm_plugin.services.base import HandedOver, Invalid, NotFound

SECRET_EXPLOITATION = "Held in a synthetic fishing-boat compound"
SECRET_ALIAS = "Synthetic-Alias-Kraken"
SECRET_SCREENING = "Synthetic screening note of the interview"


def propose_form(w: World, case_id: int, **changes: object) -> dict[str, object]:
    return {
        "version": w.version(case_id),
        "to_mission": "KHM",
        "family_name": "Synthetic",
        "given_name": "Returnee",
        "medical_needs": "Synthetic: needs a check-up on arrival",
        "shelter_needs": "Synthetic: a shelter place for two weeks",
        "security_needs": "",
        "contact": "THA caseworker, +66 0 0000 0000",
        **changes,
    }


def returning(w: World, destination: str = "KHM") -> int:
    """A THA case with the consents to return and to hand over, and a return to ``destination`` booked."""
    case_id = w.open()
    w.prepare(case_id)
    w.consent(case_id, "HandOver")
    returns.book_return(w.ctx("movement"), case_id, {**w.booking_form(case_id), "destination_country": destination})
    return case_id


def accept_form(w: World, handover_id: int) -> dict[str, object]:
    khm_today = mission_today(w.ctx("khm.caseworker", "KHM").settings)  # the case opens on KHM's calendar
    return {"version": w.one(Handover, id=handover_id).version, "opened_on": khm_today.isoformat()}


def handed_over(w: World) -> int:
    """A THA case of ``caseworker`` handed over to KHM, which accepted it: read-only in THA."""
    case_id = returning(w)
    proposed = handover.propose(w.ctx("caseworker"), case_id, propose_form(w, case_id))
    handover.accept(w.ctx("khm.caseworker", "KHM"), proposed, accept_form(w, proposed))
    return case_id


@pytest.fixture
def proposed(w: World) -> int:
    case_id = returning(w)
    return handover.propose(w.ctx("caseworker"), case_id, propose_form(w, case_id))


def test_a_proposal_carries_the_allow_listed_record_and_khm_accepts_it_into_its_own_case(w: World, proposed: int):
    row = w.one(Handover, id=proposed)
    assert (row.from_mission, row.to_mission, row.state, row.child) == ("THA", "KHM", "proposed", False)
    assert row.record["travel"]["destination_country"] == "KHM" and row.record["family_name"] == "Synthetic"
    khm = w.ctx("khm.caseworker", "KHM")
    assert [seen.handover.id for seen in handover.inbox(khm)] == [proposed]

    case_id = handover.accept(khm, proposed, accept_form(w, proposed))
    case = w.one(Case, id=case_id)
    assert case.mission_code == "KHM" and case.case_number.startswith("KHM")
    assert w.one(PersonProfile, case_id=case_id).citizenships == ["KHM"]
    assert w.one(Handover, id=proposed).receiving_case_id == case_id
    steps = [(e.what, e.by, e.by_mission) for e in w.all(HandoverEvent, handover_id=proposed)]
    assert steps == [("proposed", "caseworker", "THA"), ("accepted", "khm.caseworker", "KHM")]
    actions = {(e["mission_code"], e["action"]) for e in w.audit_rows()}
    assert {("THA", "handover.propose"), ("KHM", "handover.inbox.view"), ("KHM", "handover.accept")} <= actions
    # THA sees the history too, on its case.
    [(seen, history)] = handover.handovers_of_case(w.ctx("caseworker"), row.case_id)
    assert seen.state == "accepted" and [e.what for e in history] == ["proposed", "accepted"]


def test_after_acceptance_thas_case_is_read_only_but_can_be_closed(w: World, proposed: int):
    tha_case = w.one(Handover, id=proposed).case_id
    handover.accept(w.ctx("khm.caseworker", "KHM"), proposed, accept_form(w, proposed))
    before = w.snapshot()
    with pytest.raises(HandedOver):
        cases.update_person(w.ctx("caseworker"), tha_case, {"version": w.version(tha_case), "gender": "Feminine"})
    assert w.snapshot() == before
    closing = {
        "version": w.version(tha_case),
        "status": "Closed",
        "close_reason": "Transferred",
        "reason": "Handed over",
        "closed_on": "2026-03-01",
    }
    cases.close_case(w.ctx("caseworker"), tha_case, closing)
    assert w.one(Case, id=tha_case).status == "Closed"


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ("mission without the CTM", handover.NOT_ENABLED_THERE),
        ("no consent", handover.NO_CONSENT),
        ("no return", handover.NO_RETURN),
        ("another mission", handover.NOT_A_RECEIVING_MISSION),
        ("already proposed", handover.ALREADY_PROPOSED),
    ],
)
def test_a_proposal_is_refused_with_its_reason_and_nothing_changes(w: World, setup: str, message: str):
    if setup == "mission without the CTM":
        case_id = returning(w, "MDA")  # MDA has no CTM
    elif setup == "no return":
        case_id = w.open()
        w.consent(case_id, "HandOver")
    else:
        case_id = returning(w)
    if setup == "no consent":
        with w.rt.factory() as s, s.begin():
            s.execute(sa.text("DELETE FROM ctm_consent WHERE purpose = 'HandOver'"))
    if setup == "already proposed":
        handover.propose(w.ctx("caseworker"), case_id, propose_form(w, case_id))
    form = propose_form(w, case_id, to_mission="MDA" if setup == "another mission" else "KHM")
    before = w.snapshot()
    with pytest.raises(Invalid) as refused:
        handover.propose(w.ctx("caseworker"), case_id, form)
    assert refused.value.errors == {"consent" if setup == "no consent" else "to_mission": [message]}
    assert w.snapshot() == before


def test_accepting_needs_the_permission_and_a_second_acceptance_is_refused(w: World, proposed: int):
    before = w.snapshot()
    with pytest.raises(NotFound):  # a movement officer in KHM holds no ctm.handover.accept
        handover.accept(w.ctx("movement", "KHM"), proposed, accept_form(w, proposed))
    with pytest.raises(NotFound):  # THA proposed it: it is not THA's to accept
        handover.accept(w.ctx("caseworker", "THA"), proposed, accept_form(w, proposed))
    assert w.snapshot() == before
    khm = w.ctx("khm.caseworker", "KHM")
    stale = accept_form(w, proposed)
    handover.accept(khm, proposed, stale)
    after = w.snapshot()
    with pytest.raises(handover.MovedOn) as refused:
        handover.accept(khm, proposed, accept_form(w, proposed))
    assert refused.value.message == handover.NOT_PROPOSED
    with pytest.raises(handover.MovedOn):
        handover.decline(khm, proposed, {"version": stale["version"], "reason": "Too late"})
    assert w.snapshot() == after


def test_a_declined_hand_over_says_why_on_both_sides_and_another_may_be_proposed(w: World, proposed: int):
    khm = w.ctx("khm.caseworker", "KHM")
    with pytest.raises(Invalid) as refused:
        handover.decline(khm, proposed, {"version": 1})
    assert refused.value.errors == {"reason": ["This field is required."]}
    handover.decline(khm, proposed, {"version": 1, "reason": "Synthetic: family not traced yet"})
    row = w.one(Handover, id=proposed)
    assert (row.state, row.decline_reason) == ("declined", "Synthetic: family not traced yet")
    again = handover.propose(w.ctx("caseworker"), row.case_id, propose_form(w, row.case_id))
    assert w.one(Handover, id=again).state == "proposed"


def test_a_childs_hand_over_needs_the_receiving_missions_child_protection_user(w: World):
    case_id = returning(w)
    with w.rt.factory() as s, s.begin():
        person = s.get_one(PersonProfile, case_id)  # as the Case tab records it: a date and its precision
        person.birth_date, person.birth_date_precision = date.today() - timedelta(days=365 * 15), "Day"
    proposed = handover.propose(w.ctx("caseworker"), case_id, propose_form(w, case_id))
    assert w.one(Handover, id=proposed).child
    before = w.snapshot()
    with pytest.raises(Invalid) as refused:
        handover.accept(w.ctx("khm.caseworker", "KHM"), proposed, accept_form(w, proposed))
    assert refused.value.errors == {"opened_on": [handover.CHILD_NEEDS_PROTECTION]}
    assert w.snapshot() == before


def test_unknown_age_with_signs_of_minority_is_a_child_and_without_them_an_adult(w: World):
    # The checklist's rule (domain/preparation.py), read on the return's earliest departure.
    assert is_child(None, None, True, date(2026, 5, 1))
    assert not is_child(None, None, False, date(2026, 5, 1))
    assert is_child(date(2008, 5, 2), "Day", False, date(2026, 5, 1))  # 17 the day before
    assert not is_child(date(2008, 5, 1), "Day", True, date(2026, 5, 1))  # 18 that day


def test_the_record_never_carries_the_cases_exploitation_perpetrators_or_screening(w: World, login):  # noqa: ANN001
    case_id = returning(w)
    tha = w.ctx("caseworker")
    process.add_event(
        tha,
        case_id,
        {"version": w.version(case_id), "type": "Exploitation", "notes": SECRET_EXPLOITATION},
    )
    process.add_perpetrator(
        tha, case_id, {"version": w.version(case_id), "alias": SECRET_ALIAS, "roles": ["Transporter"]}
    )
    screening.record_screening(
        tha,
        case_id,
        {"version": w.version(case_id), "interview_date": "2026-02-04", "place": SECRET_SCREENING, "interviewer": "x"},
    )
    assert w.one(Perpetrator, case_id=case_id)  # the case holds them
    proposed = handover.propose(tha, case_id, propose_form(w, case_id))
    stored = str(w.one(Handover, id=proposed).record)
    khm = login("khm.caseworker")
    pages = khm.get("/m/KHM/plugins/ctm/handovers").get_data(as_text=True)
    pages += khm.get(f"/m/KHM/plugins/ctm/handovers/{proposed}").get_data(as_text=True)
    assert "Synthetic" in pages  # the record's name is there
    for secret in (SECRET_EXPLOITATION, SECRET_ALIAS, SECRET_SCREENING):
        assert secret not in stored and secret not in pages


# -- arrival and reception ---------------------------------------------------------------------


def arrive(w: World, live_host, case_id: int, twice: bool = False) -> None:  # noqa: ANN001
    """The relay books the return; the host's feed reports it up to ARRIVED (``twice``: delivered twice)."""
    from exchange_hosts import ReferenceHost

    host = ReferenceHost(live_host)
    w.relay()
    movement_id = w.one(ReturnBooking, case_id=case_id).movement_id
    for status in ("BOOKED", "CONFIRMED", "DEPARTED", "ARRIVED"):
        host.advance(movement_id, status)
    if twice:
        host.faults.duplicate_changes = 3
    feed.apply_movement_changes(w.job_ctx("THA"))


def test_arrival_before_acceptance_shows_pending_and_the_task_opens_at_acceptance(w: World, connected, proposed: int):  # noqa: ANN001
    arrive(w, connected, w.one(Handover, id=proposed).case_id, twice=True)
    row = w.one(Handover, id=proposed)
    assert row.arrived_at is not None and row.state == "proposed"
    booking = w.one(ReturnBooking, id=row.return_id)
    assert row.record["travel"]["movement_id"] == booking.movement_id  # the record follows the feed
    assert row.record["travel"]["legs"] == booking.legs
    assert [e.what for e in w.all(HandoverEvent, handover_id=proposed)] == ["proposed", "arrived"]
    assert w.all(ReceptionTask) == []
    khm = w.ctx("khm.caseworker", "KHM")
    handover.accept(khm, proposed, accept_form(w, proposed))
    assert handover.open_reception_tasks(khm) == 0  # opened at acceptance, once
    [task] = w.all(ReceptionTask)
    assert (task.mission_code, task.handover_id) == ("KHM", proposed)


def test_arrival_after_acceptance_opens_one_task_on_khms_side_and_its_reception_is_recorded(
    w: World, connected, proposed: int
):  # noqa: ANN001
    khm = w.ctx("khm.caseworker", "KHM")
    handover.accept(khm, proposed, accept_form(w, proposed))
    arrive(w, connected, w.one(Handover, id=proposed).case_id, twice=True)
    assert w.all(ReceptionTask) == []  # THA's feed wrote the hand-over only
    assert handover.open_reception_tasks(w.job_ctx("KHM")) == 1
    assert handover.open_reception_tasks(w.job_ctx("KHM")) == 0
    assert len(w.all(ReceptionTask)) == 1
    with pytest.raises(Invalid) as refused:
        handover.record_reception(khm, proposed, {"arrived_on": date.today().isoformat()})
    assert set(refused.value.errors) == {"arrival_place", "received_by"}
    reception = {
        "arrived_on": date.today().isoformat(),
        "arrival_place": "PNH airport",
        "received_by": "Synthetic KHM officer",
        "shelter_placement": "Synthetic shelter",
        "family_contact": "Synthetic: mother called",
    }
    handover.record_reception(khm, proposed, reception)
    task = w.one(ReceptionTask, handover_id=proposed)
    assert (task.arrival_place, task.recorded_by) == ("PNH airport", "khm.caseworker")
    with pytest.raises(handover.MovedOn) as refused:
        handover.record_reception(khm, proposed, reception)
    assert refused.value.message == handover.ALREADY_RECEIVED


def test_a_reception_not_recorded_within_the_deadline_is_overdue(w: World, proposed: int):
    khm = w.ctx("khm.caseworker", "KHM")
    handover.accept(khm, proposed, accept_form(w, proposed))
    arrived = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
    with w.rt.factory() as s, s.begin():
        s.get_one(Handover, proposed).arrived_at = arrived
    handover.open_reception_tasks(khm)
    assert not handover.received(khm, proposed, now=arrived + timedelta(hours=71)).overdue
    assert handover.received(khm, proposed, now=arrived + timedelta(hours=73)).overdue
    [seen] = handover.inbox(khm, now=arrived + timedelta(hours=73))
    assert seen.overdue


# -- the scope of a hand-over --------------------------------------------------------------------


def test_a_hand_over_is_seen_by_its_two_missions_and_by_no_third(w: World, proposed: int):
    khm_case = handover.accept(w.ctx("khm.caseworker", "KHM"), proposed, accept_form(w, proposed))
    for code, sees in (("THA", True), ("KHM", True), ("MDA", False)):
        with mission_session(w.ctx("caseworker", code)) as session:
            assert (session.get(Handover, proposed) is not None) is sees
            assert bool(session.scalars(sa.select(HandoverEvent)).all()) is sees
    with mission_session(w.ctx("caseworker", "THA")) as session:
        assert session.get(Case, khm_case) is None  # KHM's case stays KHM's
    with mission_session(w.ctx("caseworker", "MDA")) as session:
        session.add(
            HandoverEvent(
                handover_id=proposed, from_mission="THA", to_mission="KHM", what="x", by="x", by_mission="MDA"
            )
        )
        with pytest.raises(MissionScopeViolation):
            session.flush()


def test_urls_of_the_other_mission_answer_404(w: World, proposed: int, login):  # noqa: ANN001
    khm_case = handover.accept(w.ctx("khm.caseworker", "KHM"), proposed, accept_form(w, proposed))
    tha_case = w.one(Handover, id=proposed).case_id
    caseworker = login("caseworker")  # a caseworker in both missions, asking in THA
    assert caseworker.get(f"/m/THA/plugins/ctm/handovers/{proposed}").status_code == 404  # KHM's side of it
    assert caseworker.get("/m/THA/plugins/ctm/handovers/1").status_code == 404
    assert caseworker.get(f"/m/KHM/plugins/ctm/handovers/{proposed}").status_code == 200
    khm = login("khm.caseworker")
    assert khm.get(f"/m/THA/plugins/ctm/handovers/{proposed}").status_code == 404  # no role in THA
    tha_ref = w.one(Case, id=tha_case).beneficiary_id
    assert khm.get(f"/m/KHM/plugins/ctm/records/beneficiary/{tha_ref}/handover").status_code == 404
    assert w.one(Case, id=khm_case).mission_code == "KHM"
    movement = login("movement")
    assert movement.get(f"/m/KHM/plugins/ctm/handovers/{proposed}").status_code == 404  # no ctm.handover.accept
    assert (
        movement.post(f"/m/KHM/plugins/ctm/handovers/{proposed}/decline", {"version": "2", "reason": "x"}).status_code
        == 404
    )


def test_the_receiving_case_opens_on_the_receiving_missions_today(w: World, proposed: int, monkeypatch):  # noqa: ANN001
    """Phnom Penh may be a day ahead of the server: its "today" is no date in the future."""
    from ctm_plugin.domain import mission_time

    ahead = datetime.now(UTC) + timedelta(days=1)
    monkeypatch.setattr(mission_time, "utcnow", lambda: ahead)
    khm = w.ctx("khm.caseworker", "KHM")
    khm_today = mission_time.mission_today(khm.settings)
    assert khm_today > date.today()
    case_id = handover.accept(khm, proposed, {"version": 1, "opened_on": khm_today.isoformat()})
    assert w.one(Case, id=case_id).opened_on == khm_today
