"""Preparing a return: a booking waits for the checklist the mission requires, a child's safeguards
and HQ's decision on a high-risk return; each refusal names every missing item and saves nothing.
A child's return reaches the host with ``Escort type="CHILD"`` over real SOAP (both hosts)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, time, timedelta

import pytest
from page_parts import text
from world import THA_PERSON, World, departure, set_ctm_settings

from ctm_plugin.domain import mission_time
from ctm_plugin.domain import preparation as rules
from ctm_plugin.domain.case import PersonProfile
from ctm_plugin.domain.preparation import ReturnPreparation
from ctm_plugin.domain.returns import ReturnBooking
from ctm_plugin.schemas.preparation import NAMED_BUT_NO_ESCORT
from ctm_plugin.security.permissions import IDENTITY_VIEW
from ctm_plugin.services import people, preparation, returns
from ctm_plugin.services.base import Invalid, NotFound

OPENED = "2026-02-03"


@pytest.fixture
def case_id(w: World, exchange_host) -> int:  # noqa: ANN001
    """A THA case opened from the host's record of BEN-1000001, with consent to return."""
    opened = people.open_from_host(w.ctx("caseworker"), THA_PERSON, {"opened_on": OPENED})
    w.consent(opened)
    return opened


def refusal(w: World, case_id: int) -> dict[str, list[str]]:
    """What a refused booking says, by field; nothing saved."""
    before = w.snapshot()
    with pytest.raises(Invalid) as refused:
        returns.book_return(w.ctx("movement"), case_id, w.booking_form(case_id))
    assert w.snapshot() == before
    return refused.value.errors


def refused_booking(w: World, case_id: int) -> list[str]:
    """The checklist's items a refused booking names; nothing saved."""
    return refusal(w, case_id)[preparation.CHECKLIST]


def born(w: World, case_id: int, birth_date: date | None, precision: str = "Day") -> None:
    """The case's birth date, as the Case tab records it."""
    with w.rt.factory() as s, s.begin():
        person = s.get(PersonProfile, case_id)
        person.birth_date, person.birth_date_precision = birth_date, precision if birth_date else "Unknown"


def save(w: World, case_id: int, **values: object) -> None:
    """The caseworker saves the checklist: the complete one with ``values`` on top (``None``: left blank)."""
    form = {**w.checklist_form(case_id), **values}
    preparation.save_checklist(w.ctx("caseworker"), case_id, {k: v for k, v in form.items() if v is not None})


def test_a_booking_without_the_checklist_names_every_missing_item(w: World, case_id: int):
    assert refused_booking(w, case_id) == [
        "Pre-departure counselling is not recorded.",
        "No travel document valid on the day of departure is recorded.",
        "The person is not recorded as fit to travel.",
        "The risk assessment of the return is not recorded.",
    ]
    save(w, case_id, fit_to_travel=False, counselled_on=None)
    assert refused_booking(w, case_id) == [
        "Pre-departure counselling is not recorded.",
        "The person is not recorded as fit to travel.",
    ]


def test_a_document_expiring_before_the_departure_does_not_count(w: World, case_id: int):
    save(w, case_id, document_expiry=(date.today() + timedelta(days=10)).isoformat())
    assert refused_booking(w, case_id) == ["No travel document valid on the day of departure is recorded."]


def test_the_mission_chooses_its_items_and_consents_are_read_from_the_consent_tab(w: World, case_id: int):
    set_ctm_settings(
        w.rt,
        return_requires_counselling=False,
        return_requires_travel_document=False,
        return_requires_fitness=False,
        return_requires_risk=False,
        return_requires_escort=True,
        return_requires_family_tracing=True,
        return_requires_family_assessment=True,
        return_requires_consent_handover=True,
    )
    w._contexts.clear()  # the contexts carry the settings of when they were made
    assert refusal(w, case_id) == {  # a consent is said at the form's consent line, the rest in its checklist
        preparation.CHECKLIST: [
            "The escort need is not recorded.",
            "Family tracing is not recorded.",
            "The family assessment is not recorded.",
        ],
        preparation.CONSENT: ["The person's consent to the hand-over is not in force."],
    }
    save(w, case_id, escort="NONE", family_traced=True, family_assessment="NEGATIVE")
    w.consent(case_id, "HandOver")
    assert returns.book_return(w.ctx("movement"), case_id, w.booking_form(case_id))


def test_booking_attaches_the_checklist_and_the_next_return_starts_from_it_without_its_decisions(
    w: World, case_id: int
):
    save(w, case_id, risk_level="HIGH", risk_reason="Threats from the recruiter's family.")
    preparation.decide_risk(
        w.ctx("hq"), case_id, {"version": w.version(case_id), "risk_decision": "APPROVED", "risk_decision_reason": "ok"}
    )
    booking_id = returns.book_return(w.ctx("movement"), case_id, w.booking_form(case_id))
    assert w.one(ReturnPreparation, case_id=case_id).return_id == booking_id
    with w.rt.factory() as s, s.begin():  # the return ends: the person did not come
        s.get(ReturnBooking, booking_id).status = "NO_SHOW"
    state = preparation.checklist_of_case(w.ctx("caseworker"), case_id)
    assert state.preparation is not None and state.preparation.id is None  # not saved until changed
    assert state.preparation.document_number == "SYN1234567" and state.preparation.risk_decision is None
    assert state.missing == [rules.RISK_PENDING]
    assert refused_booking(w, case_id) == [rules.RISK_PENDING]


def test_a_high_risk_return_waits_for_hq_and_a_refusal_blocks_it(w: World, case_id: int):
    save(w, case_id, risk_level="HIGH", risk_reason="Threats from the recruiter's family.")
    assert refused_booking(w, case_id) == [rules.RISK_PENDING]

    # Only HQ decides, and only on a high-risk return; the caseworker's request is 404 (not theirs).
    decision = {"version": w.version(case_id), "risk_decision": "REFUSED", "risk_decision_reason": "Unsafe now."}
    with pytest.raises(NotFound):
        preparation.decide_risk(w.ctx("caseworker"), case_id, decision)
    preparation.decide_risk(w.ctx("hq"), case_id, decision)
    assert refused_booking(w, case_id) == [rules.RISK_REFUSED]
    row = w.one(ReturnPreparation, case_id=case_id)
    assert (row.risk_decision, row.risk_decided_by) == ("REFUSED", "hq")

    # A new assessment needs a new decision; an approval lets the booking through.
    save(w, case_id, risk_level="HIGH", risk_reason="Threats, now with police protection on arrival.")
    assert refused_booking(w, case_id) == [rules.RISK_PENDING]
    preparation.decide_risk(
        w.ctx("hq"), case_id, {**decision, "version": w.version(case_id), "risk_decision": "APPROVED"}
    )
    assert returns.book_return(w.ctx("movement"), case_id, w.booking_form(case_id))
    actions = [e["action"] for e in w.audit_rows()]
    assert actions.count("return.risk_decision") == 2 and "return.prepare" in actions

    save(w, case_id, risk_level="LOW")  # the next return's
    with pytest.raises(Invalid) as refused:
        preparation.decide_risk(w.ctx("hq"), case_id, {**decision, "version": w.version(case_id)})
    assert refused.value.errors == {"risk_decision": [preparation.NOT_HIGH_RISK]}


def test_a_childs_return_needs_the_childrens_items_and_only_child_protection_records_the_bid(
    w: World,
    case_id: int,
    exchange_host,  # noqa: ANN001
):
    on_departure = date.fromisoformat(departure())
    born(w, case_id, on_departure.replace(year=on_departure.year - 18) + timedelta(days=1))  # 18 the day after
    save(w, case_id)
    assert refused_booking(w, case_id) == [rules.BID_MISSING, rules.CARE_MISSING, rules.ESCORT_MISSING]

    bid = {"version": w.version(case_id), "bid_outcome": "RETURN", "bid_on": OPENED, "bid_reason": "Mother is able."}
    with pytest.raises(NotFound):  # a caseworker without the child-protection permission
        preparation.record_best_interests(w.ctx("caseworker"), case_id, bid)
    preparation.record_best_interests(w.ctx("childprotection"), case_id, bid)
    save(w, case_id, family_assessment="POSITIVE")
    assert refused_booking(w, case_id) == [rules.ESCORT_MISSING]
    save(w, case_id, family_assessment="NEGATIVE", escort="CHILD", escort_name="Synthetic Escort")
    assert refused_booking(w, case_id) == [rules.CARE_MISSING]
    save(w, case_id, escort_name="Synthetic Escort", alternative_care="Foster family, arranged with the ministry.")
    row = w.one(ReturnPreparation, case_id=case_id)
    assert (row.bid_outcome, row.bid_by) == ("RETURN", "childprotection")  # the caseworker's saves keep it
    returns.book_return(w.ctx("movement"), case_id, {**w.booking_form(case_id), "escort": "NONE"})

    # Over SOAP, the host stores a child travelling with an escort, whatever the form's escort said.
    assert w.relay().done == 1
    booking = w.one(ReturnBooking, case_id=case_id)
    assert booking.escort == "CHILD" and exchange_host.movement(booking.movement_id).escort == "CHILD"


def test_a_bid_against_the_return_blocks_it(w: World, case_id: int):
    born(w, case_id, date.today() - timedelta(days=365 * 10))
    save(w, case_id, family_assessment="POSITIVE", escort_name="Synthetic Escort")
    preparation.record_best_interests(
        w.ctx("childprotection"),
        case_id,
        {"version": w.version(case_id), "bid_outcome": "NO_RETURN", "bid_on": OPENED, "bid_reason": "Risk at home."},
    )
    assert refused_booking(w, case_id) == [rules.BID_AGAINST]


def test_the_travel_document_is_an_identity_field(w: World, case_id: int, login):  # noqa: ANN001
    save(w, case_id)
    # HQ (no ctm.identity.view) sees the risk and the travel, never the document; a caseworker sees it.
    hq = text(login("hq").get(f"/m/THA/plugins/ctm/records/beneficiary/{THA_PERSON}/return"))
    assert 'data-value="risk"' in hq and 'data-value="planned_departure"' in hq
    assert "SYN1234567" not in hq and 'data-value="document"' not in hq
    assert "SYN1234567" in text(login("caseworker").get(f"/m/THA/plugins/ctm/records/beneficiary/{THA_PERSON}/return"))

    # Without the identity group the form has no document: sending one is refused, saving keeps it.
    caseworker = w.ctx("caseworker")
    no_identity = dataclasses.replace(caseworker, permissions=caseworker.permissions - {IDENTITY_VIEW})
    with pytest.raises(Invalid) as refused:
        preparation.save_checklist(no_identity, case_id, {**w.checklist_form(case_id), "document_number": "OTHER"})
    assert refused.value.errors["document_number"] == ["This field is not part of the form."]
    form = {k: v for k, v in w.checklist_form(case_id).items() if not k.startswith("document_")}
    preparation.save_checklist(no_identity, case_id, {**form, "fit_to_travel": False})
    row = w.one(ReturnPreparation, case_id=case_id)
    assert row.document_number == "SYN1234567" and row.fit_to_travel is False


def test_bad_input_names_the_field_and_saves_nothing(w: World, case_id: int):
    before = w.snapshot()
    with pytest.raises(Invalid) as refused:
        save(w, case_id, risk_level="EXTREME", escort_name="x" * 121, document_number="N\t1", bid_outcome="RETURN")
    assert refused.value.errors == {
        "risk_level": ["Choose a value from the list."],
        "escort_name": ["The text is too long."],
        "document_number": ["Enter the document number: up to 40 characters, no control characters."],
        "bid_outcome": ["This field is not part of the form."],  # the child-protection officer's form only
    }
    with pytest.raises(Invalid) as refused:
        save(w, case_id, document_kind=None, risk_reason=None)
    assert refused.value.errors == {
        "document_kind": ["This field is required."],
        "risk_reason": ["Give the reason for the risk level."],
    }
    with pytest.raises(Invalid) as refused:  # "no escort", named
        save(w, case_id, escort="NONE", escort_name="Synthetic Escort")
    assert refused.value.errors == {"escort_name": [NAMED_BUT_NO_ESCORT]}
    assert w.snapshot() == before


def test_dates_are_judged_on_the_missions_calendar(w: World, case_id: int, monkeypatch):  # noqa: ANN001
    set_ctm_settings(w.rt, time_zone="Asia/Bangkok")
    w._contexts.clear()
    server_today = datetime.now(UTC).date()
    # 23:30 UTC: already the next day in Bangkok, so the server's today is the mission's yesterday.
    monkeypatch.setattr(mission_time, "utcnow", lambda: datetime.combine(server_today, time(23, 30), UTC))
    before = w.snapshot()
    with pytest.raises(Invalid) as refused:
        save(w, case_id, planned_departure=server_today.isoformat(), document_expiry=server_today.isoformat())
    assert refused.value.errors == {
        "planned_departure": ["The date cannot be in the past."],
        "document_expiry": ["The date cannot be in the past."],
    }
    assert w.snapshot() == before
    tomorrow = (server_today + timedelta(days=1)).isoformat()
    save(w, case_id, planned_departure=tomorrow)
    assert w.one(ReturnPreparation, case_id=case_id).planned_departure.isoformat() == tomorrow


def test_only_child_protection_gets_the_bid_form_and_only_hq_the_decision_form(w: World, case_id: int, login):  # noqa: ANN001
    born(w, case_id, date.today() - timedelta(days=365 * 12))
    save(w, case_id, risk_level="HIGH", risk_reason="Threats from the recruiter's family.")
    tab = f"/m/THA/plugins/ctm/records/beneficiary/{THA_PERSON}/return"
    bid = {"version": str(w.version(case_id)), "bid_outcome": "RETURN", "bid_on": OPENED, "bid_reason": "Aunt."}

    caseworker = login("caseworker")
    page = text(caseworker.get(tab))
    assert 'data-note="child"' in page and 'data-form="checklist"' in page
    assert 'data-form="best_interests"' not in page and 'data-form="risk_decision"' not in page
    assert caseworker.post(f"{tab}/best-interests", bid).status_code == 404
    assert w.one(ReturnPreparation, case_id=case_id).bid_outcome is None

    protector = login("childprotection")
    assert 'data-form="best_interests"' in text(protector.get(tab))
    assert protector.post(f"{tab}/best-interests", bid).status_code == 303

    hq = login("hq")
    page = text(hq.get(tab))
    assert 'data-form="risk_decision"' in page and 'data-form="checklist"' not in page
    decision = {"version": str(w.version(case_id)), "risk_decision": "REFUSED", "risk_decision_reason": "Unsafe."}
    assert hq.post(f"{tab}/risk-decision", decision).status_code == 303
    page = text(caseworker.get(tab))
    assert "HQ refused this high-risk return." in page and 'data-value="risk_decision"' in page
    assert {"return.best_interests", "return.risk_decision"} <= {e["action"] for e in w.audit_rows()}
