"""The mission's inbox of referrals from partners (services/referral_inbox.py, web/referral_inbox.py): a caseworker
screens a pending referral and accepts it into a case (a new one, or the beneficiary's existing one) with the
organisation's own consent recorded, or declines it with a reason; a decision is made once, the second refused with
nothing saved; the partner's page records it; other missions and users without the case-creation permission see
nothing of it."""

from __future__ import annotations

from datetime import date

import pytest
from page_parts import field, text, version
from partner_rows import BIRTH, NAME, NEEDS, Ngo, partner, refer
from world import THA_PERSON, World

from ctm_plugin.domain.assistance import Consent
from ctm_plugin.domain.case import Case, PersonProfile
from ctm_plugin.domain.partner_service import InboundReferral
from ctm_plugin.domain.partners import PartnerExchange
from ctm_plugin.services import referral_inbox
from ctm_plugin.services.base import Invalid, NotFound

TODAY = "2026-03-02"
ACCEPT = {"opened_on": TODAY, "consent_given_on": TODAY, "consent_method": "Verbal"}
SENT = {NAME: "Mali", BIRTH: "2009-04-01", NEEDS: "shelter and a doctor"}


@pytest.fixture
def ngo(w: World) -> Ngo:
    return partner(w.rt)


@pytest.fixture
def referral(w: World, ngo: Ngo) -> int:
    return refer(w.rt, ngo, "REF-1", SENT)


def decisions(w: World) -> list[tuple]:
    return [(e.operation, e.reference, e.agreement_version, e.outcome) for e in w.all(PartnerExchange)][1:]


def test_accepting_opens_a_case_filled_from_the_referral_with_the_missions_own_consent(w: World, referral: int):
    case_id = referral_inbox.accept(w.ctx("caseworker"), referral, ACCEPT)
    stored = w.one(InboundReferral, id=referral)
    assert (stored.status, stored.case_id) == ("accepted", case_id) and stored.decided_at is not None
    case = w.one(Case, id=case_id)
    assert case.beneficiary_id == f"REFERRAL-{referral}" and str(case.opened_on) == TODAY
    person = w.one(PersonProfile, case_id=case_id)
    assert (str(person.birth_date), person.birth_date_precision) == ("2009-04-01", "Day")
    [consent] = w.all(Consent, case_id=case_id)
    assert (consent.purpose, str(consent.given_on), consent.method) == ("Services", TODAY, "Verbal")
    assert decisions(w) == [("DecideReferral", "REF-1", 1, "accepted")]
    assert [r["action"] for r in w.audit_rows() if r["action"].startswith("referral.")] == ["referral.accept"]


def test_accepting_into_the_beneficiarys_existing_case_keeps_what_it_knows(w: World, referral: int):
    existing = w.open(THA_PERSON)
    with w.rt.factory() as s, s.begin():  # what the host's record said of the person
        s.get(PersonProfile, existing).birth_date = date(2008, 7, 9)
    unknown = {**ACCEPT, "beneficiary_id": "BEN-9999999"}
    snapshot = w.snapshot()
    with pytest.raises(Invalid) as refused:
        referral_inbox.accept(w.ctx("caseworker"), referral, unknown)
    assert list(refused.value.errors) == ["beneficiary_id"]
    assert w.snapshot() == snapshot  # nor the referral claimed
    assert referral_inbox.accept(w.ctx("caseworker"), referral, {**ACCEPT, "beneficiary_id": THA_PERSON}) == existing
    assert w.one(InboundReferral, id=referral).case_id == existing
    assert w.one(PersonProfile, case_id=existing).birth_date == date(2008, 7, 9)  # the case knew better
    assert [c.purpose for c in w.all(Consent, case_id=existing)] == ["Services"]


def test_declining_needs_a_bounded_reason_sealed_and_the_second_decision_is_refused(w: World, referral: int):
    caseworker = w.ctx("caseworker")
    for reason, message in (("", "This field is required."), ("x" * 1001, "The text is too long.")):
        with pytest.raises(Invalid) as refused:
            referral_inbox.decline(caseworker, referral, {"reason": reason})
        assert refused.value.errors == {"reason": [message]}
    referral_inbox.decline(caseworker, referral, {"reason": "No shelter place for a child this month."})
    stored = w.one(InboundReferral, id=referral)
    assert (stored.status, stored.decline_reason) == ("declined", "No shelter place for a child this month.")
    assert "shelter place" not in stored.decline_reason_sealed
    snapshot = w.snapshot()
    with pytest.raises(referral_inbox.Decided):
        referral_inbox.accept(w.ctx("supervisor"), referral, ACCEPT)
    with pytest.raises(referral_inbox.Decided):
        referral_inbox.decline(w.ctx("supervisor"), referral, {"reason": "Again."})
    assert w.snapshot() == snapshot
    assert decisions(w) == [("DecideReferral", "REF-1", 1, "declined")]


def test_the_inbox_is_the_missions_and_the_case_creators_only(w: World, ngo: Ngo, referral: int):
    later = refer(w.rt, ngo, "REF-2", {NEEDS: "food"})
    referral_inbox.decline(w.ctx("caseworker"), referral, {"reason": "Not ours."})
    seen = referral_inbox.inbox(w.ctx("caseworker"))
    assert [(r.referral.id, r.partner_name) for r in seen] == [
        (later, "Safe Harbour Shelter"),
        (referral, "Safe Harbour Shelter"),
    ]
    assert referral_inbox.pending_count(w.ctx("caseworker")) == 1
    assert referral_inbox.received(w.ctx("caseworker"), later).referral.payload == {NEEDS: "food"}
    assert [r["action"] for r in w.audit_rows() if r["action"].startswith("referral.")][-2:] == [
        "referral.inbox.view",
        "referral.view",
    ]
    assert referral_inbox.inbox(w.ctx("khm.caseworker", "KHM")) == []
    for ctx in (w.ctx("khm.caseworker", "KHM"), w.ctx("movement")):
        with pytest.raises(NotFound):
            referral_inbox.received(ctx, later)
        with pytest.raises(NotFound):
            referral_inbox.decline(ctx, later, {"reason": "Not ours."})
    assert w.one(InboundReferral, id=later).status == "pending"


def test_the_pages_list_show_and_decide_with_field_errors_and_conflicts_translated(w: World, referral: int, login):  # noqa: ANN001
    caseworker = login("caseworker")
    menu = caseworker.get("/m/THA/plugins/ctm/referrals").get_data(as_text=True)
    assert "Referrals from partners (1)" in menu and f'data-referral="{referral}"' in menu
    shown = caseworker.get(f"/m/THA/plugins/ctm/referrals/{referral}").get_data(as_text=True)
    assert "Mali" in shown and "shelter and a doctor" in shown and "Safe Harbour Shelter" in shown
    assert "version 1" in shown and "Referral for assistance" in shown
    refused = caseworker.post(f"/m/THA/plugins/ctm/referrals/{referral}/decline", {"reason": ""})
    assert refused.status_code == 422 and "This field is required." in refused.get_data(as_text=True)
    other = login("supervisor")
    other.get(f"/m/THA/plugins/ctm/referrals/{referral}")
    accepted = caseworker.post(f"/m/THA/plugins/ctm/referrals/{referral}/accept", ACCEPT)
    assert accepted.status_code == 303
    late = other.post(f"/m/THA/plugins/ctm/referrals/{referral}/decline", {"reason": "Too late."})
    assert late.status_code == 409 and "Another caseworker has decided" in late.get_data(as_text=True)
    assert w.one(InboundReferral, id=referral).status == "accepted"
    french = caseworker.post(
        f"/m/THA/plugins/ctm/referrals/{referral}/decline", {"reason": "x"}, headers={"Accept-Language": "fr"}
    )
    assert french.status_code == 409 and "Un autre" in french.get_data(as_text=True)


def test_the_case_opened_for_a_referral_is_linked_to_the_persons_host_record_from_the_referrals_page(  # noqa: ANN001
    w: World, referral: int, login, connected
) -> None:
    case_id = referral_inbox.accept(w.ctx("caseworker"), referral, ACCEPT)
    caseworker = login("caseworker")
    page = text(caseworker.get(f"/m/THA/plugins/ctm/referrals/{referral}"))
    assert 'data-form="link"' in page and 'data-link="case"' not in page  # no host record yet: no tabs
    link = f"/m/THA/plugins/ctm/referrals/{referral}/link"
    refused = caseworker.post(link, {"version": version(page), "beneficiary_id": "BEN-2000001"})  # KHM's
    message = "The host has no beneficiary with this ID in this mission."
    assert refused.status_code == 422 and message in field(text(refused), "link", "beneficiary_id")
    linked = caseworker.post(link, {"version": version(page), "beneficiary_id": THA_PERSON})
    assert linked.status_code == 303 and linked.headers["Location"].endswith(f"/beneficiary/{THA_PERSON}/case")
    assert w.one(Case, id=case_id).beneficiary_id == THA_PERSON
    assert 'data-link="case"' in text(caseworker.get(f"/m/THA/plugins/ctm/referrals/{referral}"))
