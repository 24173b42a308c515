"""Any value in any field of any form, host's or CT's: never a server error, and a refusal saves nothing.

The CT forms are posted through the host's frame to a case of the demo (opened first, with an
event, a consent and a booking), on the live host the CTM's missions are connected to, so that
the forms that talk to the host (search, register, refresh, push, book) reach its SOAP services.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st
from property_helpers import EXAMPLES, assert_answered, hostile_text, snapshot

from ctm_plugin.domain.assistance import Consent, Referral
from ctm_plugin.domain.case import Case
from ctm_plugin.domain.due import FollowUp, ScreeningCandidate
from ctm_plugin.domain.fund import FundRequest
from ctm_plugin.domain.handover import Handover
from ctm_plugin.domain.mission_time import mission_today
from ctm_plugin.domain.partners import Credential, Partner, SharingAgreement
from ctm_plugin.domain.process import TraffickingEvent
from ctm_plugin.domain.reintegration import Disbursement, LedgerEntry, PlanElement
from ctm_plugin.domain.retrafficking import RetraffickingMatch
from ctm_plugin.domain.returns import ReturnBooking
from ctm_plugin.domain.sync import OutboxMessage
from ctm_plugin.schemas import assistance_test, case_test, process_test, screening_test
from ctm_plugin.schemas.assistance import ConsentSchema, ReferralSchema, ServiceSchema, WithdrawConsentSchema
from ctm_plugin.schemas.case import CloseCaseSchema, OpenCaseSchema, PersonSchema, ReopenCaseSchema, VictimContextSchema
from ctm_plugin.schemas.due import DismissCandidateSchema, FollowUpSchema, ReferralAnswerSchema, VersionOnlySchema
from ctm_plugin.schemas.fund import (
    FundCurrencySchema,
    FundDecisionSchema,
    FundLimitSchema,
    FundRequestSchema,
    TopUpSchema,
)
from ctm_plugin.schemas.handover import (
    AcceptHandoverSchema,
    DeclineHandoverSchema,
    ProposeHandoverSchema,
    ReceptionSchema,
)
from ctm_plugin.schemas.monitoring import MonitoringStartSchema, VisitSchema
from ctm_plugin.schemas.partners import AgreementFormSchema, PartnerEditSchema, PartnerSchema, PartnerStatusSchema
from ctm_plugin.schemas.people import HostSearchSchema, LinkToHostSchema, PushSchema, RegisterPersonSchema
from ctm_plugin.schemas.preparation import BestInterestsSchema, ChecklistSchema, RiskDecisionSchema
from ctm_plugin.schemas.process import EventSchema, PerpetratorSchema
from ctm_plugin.schemas.reintegration import (
    AgreePlanSchema,
    DisbursementDecisionSchema,
    DisbursementSchema,
    ElementSchema,
    PaymentSchema,
    ReversalSchema,
)
from ctm_plugin.schemas.retrafficking import MatchDecisionSchema
from ctm_plugin.schemas.returns import CancelReturnSchema, ReturnBookingSchema
from ctm_plugin.schemas.screening import DeterminationSchema, ScreeningSchema
from ctm_plugin.scoring.model_test import SURVEYS
from mimosa_host.demo import TIME_ZONES

PERSON = "BEN-1000001"
OPENED = "2026-02-03"


def _departure() -> str:
    return (date.today() + timedelta(days=30)).isoformat()


VALID: dict[type | None, dict[str, Any]] = {
    **assistance_test.VALID,
    **case_test.VALID,
    **process_test.VALID,
    **screening_test.VALID,
    ConsentSchema: {**assistance_test.VALID[ConsentSchema], "purpose": "Return", "given_on": OPENED},
    WithdrawConsentSchema: {**assistance_test.VALID[WithdrawConsentSchema], "withdrawn_on": "2026-03-01"},
    ReferralSchema: {**assistance_test.VALID[ReferralSchema], "direction": "Incoming"},
    # Only a user who records determinations may set the status: the caseworker does not.
    VictimContextSchema: {
        k: v
        for k, v in case_test.VALID[VictimContextSchema].items()
        if k not in ("trafficking_status", "status_decided_by")
    },
    OpenCaseSchema: {"opened_on": OPENED},
    PushSchema: {"version": "1"},
    HostSearchSchema: {"family_name": "Kaew"},
    RegisterPersonSchema: {
        "family_name": "Doe",
        "given_name": "Jane",
        "gender": "Feminine",
        "opened_on": OPENED,
        "consent_given_on": OPENED,
        "consent_method": "Written",
    },
    ProposeHandoverSchema: {"to_mission": "KHM", "family_name": "Doe", "given_name": "Jane", "contact": "THA, +66 0"},
    AcceptHandoverSchema: {"version": "1", "opened_on": OPENED},
    DeclineHandoverSchema: {"version": "1", "reason": "Not yet"},
    ReceptionSchema: {"arrived_on": OPENED, "arrival_place": "PNH", "received_by": "Officer"},
    ReturnBookingSchema: {
        "origin_country": "THA",
        "origin_location": "BKK",
        "destination_country": "KHM",
        "destination_location": "PNH",
        "earliest_departure": _departure(),
        "escort": "NONE",
        "fit_to_travel": "y",
        "project_code": "THA-CT-01",
    },
    # High risk: HQ's decision form has a return to decide on (the site approves one before booking).
    ChecklistSchema: {
        "planned_departure": _departure(),
        "destination_country": "KHM",
        "counselled_on": OPENED,
        "document_kind": "PASSPORT",
        "document_number": "SYN1234567",
        "document_expiry": (date.today() + timedelta(days=400)).isoformat(),
        "fit_to_travel": "y",
        "escort": "OPERATIONAL",
        "escort_name": "Synthetic Escort",
        "risk_level": "HIGH",
        "risk_reason": "Threats from the recruiter's family.",
        "family_traced": "y",
        "family_assessment": "POSITIVE",
    },
    BestInterestsSchema: {"bid_outcome": "RETURN", "bid_on": OPENED, "bid_reason": "The mother is able to care."},
    RiskDecisionSchema: {"risk_decision": "APPROVED", "risk_decision_reason": "Police protection on arrival."},
    CancelReturnSchema: {"reason": "BENEFICIARY_WITHDREW"},
    MatchDecisionSchema: {"decision": "dismissed", "reason": "A relative's passport"},
    LinkToHostSchema: {"beneficiary_id": "BEN-2000001"},
    FundRequestSchema: {"kind": "Medical", "amount": "120.50", "currency": "USD", "justification": "Surgery."},
    TopUpSchema: {"amount": "1000", "donor": "ECHO", "project_code": "GEF-1", "on_date": OPENED},
    FundDecisionSchema: {"decision": "approve_less", "amount": "10", "reason": "Part is covered."},
    FundCurrencySchema: {"currency": "EUR"},
    FundLimitSchema: {"max_request": "5000"},
    MonitoringStartSchema: {"start_on": OPENED},
    # A reached visit with the survey's answers (posted as answer_<indicator>, beside the schema's fields).
    VisitSchema: {
        "visited_on": OPENED,
        "schedule_month": "3",
        "mode": "InPerson",
        "outcome": "Reached",
        "risks": ["Debt"],
        **{f"answer_{indicator}": option for indicator, option in SURVEYS[0].items()},
    },
    AgreePlanSchema: {"agreed_on": OPENED},
    ElementSchema: {
        "type": "Medical",
        "objective": "Dental care.",
        "provider": "NGO: THA Hope Foundation",
        "start_on": OPENED,
        "end_on": "2026-12-31",
        "budget": "1000",
        "currency": "THB",
        "status": "Planned",
    },
    DisbursementSchema: {"amount": "250.50", "project_code": "THA-CT-01", "payee": "Provider", "purpose": "Fees."},
    DisbursementDecisionSchema: {"decision": "approve"},
    PaymentSchema: {"paid_on": OPENED, "payment_method": "Cash", "receipt_reference": "R-1", "payee": "Person"},
    ReversalSchema: {"reason": "Entered twice."},
    FollowUpSchema: {"due_on": OPENED, "owner": "caseworker", "note": "Call the shelter."},
    VersionOnlySchema: {},
    ReferralAnswerSchema: {"status": "accepted", "answered_on": OPENED},
    DismissCandidateSchema: {"reason": "Smuggled, not trafficked."},
    PartnerSchema: {"name": "Safe Harbour Shelter", "kind": "Shelter", "contact": "intake@safe-harbour.example"},
    PartnerEditSchema: {"name": "Safe Harbour Shelter", "kind": "NGO", "contact": "intake@safe-harbour.example"},
    PartnerStatusSchema: {"action": "suspend"},
    AgreementFormSchema: {
        "valid_from": OPENED,
        "valid_until": "2026-12-31",
        "purposes": ["ReferralAssistance"],
        "fields_ReferralAssistance": ["person.given_name", "referral.needs"],
        "consent_ReferralAssistance": "Referral",
    },
}


@dataclass(frozen=True)
class Form:
    endpoint: str
    user: str
    schema: type | None
    """Whose fields are posted (and fuzzed); None for a form with nothing but its CSRF token."""
    mission: str = "THA"


# Every CT form, by page; a route added to tests/plugin/test_routes.py's EXPECTED comes here too.
FORMS = {
    "case": [
        Form("ctm.open_case", "caseworker", OpenCaseSchema),
        Form("ctm.edit_person", "caseworker", PersonSchema),
        Form("ctm.edit_victim", "caseworker", VictimContextSchema),
        Form("ctm.close_case", "caseworker", CloseCaseSchema),
        Form("ctm.reopen_case", "caseworker", ReopenCaseSchema),
        Form("ctm.push_to_host", "caseworker", PushSchema),
        Form("ctm.refresh_from_host", "caseworker", None),
    ],
    "screening and process": [
        Form("ctm.record_screening", "caseworker", ScreeningSchema),
        Form("ctm.determine", "caseworker", DeterminationSchema),
        Form("ctm.add_event", "caseworker", EventSchema),
        Form("ctm.edit_event", "caseworker", EventSchema),
        Form("ctm.add_perpetrator", "caseworker", PerpetratorSchema),
    ],
    "assistance and consent": [
        Form("ctm.add_service", "caseworker", ServiceSchema),
        Form("ctm.record_consent", "caseworker", ConsentSchema),
        Form("ctm.withdraw_consent", "caseworker", WithdrawConsentSchema),
        Form("ctm.refer", "caseworker", ReferralSchema),
        Form("ctm.answer_referral", "caseworker", ReferralAnswerSchema),
    ],
    # The site adds a follow-up, an incoming referral and a person to screen first.
    "what is due": [
        Form("ctm.add_follow_up", "caseworker", FollowUpSchema),
        Form("ctm.follow_up_done", "caseworker", VersionOnlySchema),
        Form("ctm.dismiss_candidate", "caseworker", DismissCandidateSchema),
    ],
    "return preparation": [
        Form("ctm.save_checklist", "caseworker", ChecklistSchema),
        Form("ctm.record_best_interests", "childprotection", BestInterestsSchema),
        Form("ctm.decide_risk", "hq", RiskDecisionSchema),
    ],
    "people, returns and synchronisation": [
        Form("ctm.search_people", "caseworker", HostSearchSchema),
        Form("ctm.import_person", "caseworker", OpenCaseSchema),
        Form("ctm.register_person", "caseworker", RegisterPersonSchema),
        Form("ctm.book_return", "movement", ReturnBookingSchema),
        Form("ctm.cancel_return", "movement", CancelReturnSchema),
        Form("ctm.retry_message", "integrator", None),
        Form("ctm.discard_message", "integrator", None),
    ],
    "monitoring": [
        Form("ctm.set_monitoring_start", "caseworker", MonitoringStartSchema),
        Form("ctm.record_visit", "caseworker", VisitSchema),
    ],
    # Proposed in THA (the site proposes one first), decided and received in KHM.
    "hand-over": [
        Form("ctm.propose_handover", "caseworker", ProposeHandoverSchema),
        Form("ctm.accept_handover", "caseworker", AcceptHandoverSchema, "KHM"),
        Form("ctm.decline_handover", "caseworker", DeclineHandoverSchema, "KHM"),
        Form("ctm.record_reception", "caseworker", ReceptionSchema, "KHM"),
        Form("ctm.link_received_case", "caseworker", LinkToHostSchema, "KHM"),
    ],
    # Requested in THA (the site requests once first), topped up and decided by HQ.
    "emergency fund": [
        Form("ctm.request_fund", "caseworker", FundRequestSchema),
        Form("ctm.fund_top_up", "hq", TopUpSchema),
        Form("ctm.set_fund_currency", "hq", FundCurrencySchema),
        Form("ctm.set_fund_max_request", "hq", FundLimitSchema),
        Form("ctm.decide_fund_request", "hq", FundDecisionSchema),
    ],
    # The site adds an element and a disbursement the supervisor approved (THA: the case is still there).
    "reintegration": [
        Form("ctm.agree_plan", "caseworker", AgreePlanSchema),
        Form("ctm.add_plan_element", "caseworker", ElementSchema),
        Form("ctm.change_plan_element", "caseworker", ElementSchema),
        Form("ctm.request_disbursement", "caseworker", DisbursementSchema),
        Form("ctm.decide_disbursement", "supervisor", DisbursementDecisionSchema),
        Form("ctm.record_payment", "caseworker", PaymentSchema),
        Form("ctm.reverse_entry", "supervisor", ReversalSchema),
    ],
    # The site adds a match between THA's case and a KHM one, as the matching job would.
    "re-trafficking": [Form("ctm.decide_match", "hq", MatchDecisionSchema)],
    # The site adds a partner with a credential and a drafted agreement, as the mission administrator would.
    "partners": [
        Form("ctm.add_partner", "admin", PartnerSchema),
        Form("ctm.edit_partner", "admin", PartnerEditSchema),
        Form("ctm.change_partner_status", "admin", PartnerStatusSchema),
        Form("ctm.issue_partner_credential", "admin", None),
        Form("ctm.retire_partner_credential", "admin", None),
        Form("ctm.draft_agreement", "admin", AgreementFormSchema),
        Form("ctm.approve_agreement", "hq", None),
    ],
}


class Site:
    """The live host's app with its demo users logged in, a case open with one of everything."""

    def __init__(self, live, login_to: Callable[..., Any]) -> None:  # noqa: ANN001 - a LiveHost
        self.app, self.engine = live.app, live.rt.engine
        self.browsers = {
            name: login_to(self.app, name)
            for name in ("caseworker", "movement", "integrator", "admin", "hq", "childprotection", "supervisor")
        }
        for browser in self.browsers.values():
            browser.get("/m/THA/beneficiaries")  # the session's CSRF token, valid as long as the session
        ids = {"record_type": "beneficiary", "record_ref": PERSON, "mission": "THA"}
        assert self.post("ctm.open_case", "caseworker", VALID[OpenCaseSchema], ids).status_code == 303
        handing_over = {**VALID[ConsentSchema], "purpose": "HandOver"}
        for endpoint, user, form in (
            ("ctm.add_event", "caseworker", VALID[EventSchema]),
            ("ctm.record_consent", "caseworker", VALID[ConsentSchema]),
            ("ctm.record_consent", "caseworker", handing_over),
            ("ctm.save_checklist", "caseworker", VALID[ChecklistSchema]),
            ("ctm.decide_risk", "hq", VALID[RiskDecisionSchema]),
            ("ctm.request_fund", "caseworker", VALID[FundRequestSchema]),
            ("ctm.add_follow_up", "caseworker", VALID[FollowUpSchema]),
            ("ctm.refer", "caseworker", {**VALID[ReferralSchema], "direction": "Incoming"}),
        ):
            data = {**form, "version": self.version()}
            response = self.post(endpoint, user, data, ids)
            assert response.status_code == 303, response.get_data(as_text=True)
        data = {**VALID[ReturnBookingSchema], "version": self.version()}
        assert self.post("ctm.book_return", "movement", data, ids).status_code == 303
        data = {**VALID[ProposeHandoverSchema], "version": self.version()}
        assert self.post("ctm.propose_handover", "caseworker", data, ids).status_code == 303
        data = {**VALID[ElementSchema], "version": self.version()}
        assert self.post("ctm.add_plan_element", "caseworker", data, ids).status_code == 303
        with self.engine.connect() as conn:
            ids["element_id"] = conn.scalar(sa.select(sa.func.min(PlanElement.id)))
        data = {**VALID[DisbursementSchema], "version": self.version()}
        assert self.post("ctm.request_disbursement", "caseworker", data, ids).status_code == 303
        with self.engine.connect() as conn:
            ids["disbursement_id"] = conn.scalar(sa.select(sa.func.min(Disbursement.id)))
        data = {**VALID[DisbursementDecisionSchema], "version": self.version()}
        assert self.post("ctm.decide_disbursement", "supervisor", data, ids).status_code == 303
        with self.engine.connect() as conn:
            ids["event_id"] = conn.scalar(sa.select(sa.func.min(TraffickingEvent.id)))
            ids["consent_id"] = conn.scalar(sa.select(sa.func.min(Consent.id)))
            ids["message_id"] = conn.scalar(sa.select(sa.func.min(OutboxMessage.id)))
            ids["case_id"] = conn.scalar(sa.select(sa.func.min(Case.id)))
            ids["return_id"] = conn.scalar(sa.select(sa.func.min(ReturnBooking.id)))
            ids["handover_id"] = conn.scalar(sa.select(sa.func.min(Handover.id)))
            ids["request_id"], ids["request_mission"] = conn.scalar(sa.select(sa.func.min(FundRequest.id))), "THA"
            ids["entry_id"] = conn.scalar(sa.select(sa.func.min(LedgerEntry.id)))
            ids["follow_up_id"] = conn.scalar(sa.select(sa.func.min(FollowUp.id)))
            ids["referral_id"] = conn.scalar(sa.select(sa.func.min(Referral.id)))
        partner_ids = {"mission": "THA"}
        assert self.post("ctm.add_partner", "admin", VALID[PartnerSchema], partner_ids).status_code == 303
        with self.engine.connect() as conn:
            partner_ids["partner_id"] = ids["partner_id"] = conn.scalar(sa.select(sa.func.min(Partner.id)))
        assert self.post("ctm.issue_partner_credential", "admin", {}, partner_ids).status_code == 200
        assert self.post("ctm.draft_agreement", "admin", VALID[AgreementFormSchema], partner_ids).status_code == 303
        with self.engine.connect() as conn:
            ids["credential_id"] = conn.scalar(sa.select(sa.func.min(Credential.id)))
            ids["agreement_id"], ids["agreement_mission"] = (
                conn.scalar(sa.select(sa.func.min(SharingAgreement.id))),
                "THA",
            )
        with self.engine.begin() as conn:  # a person the pull flagged for screening
            ids["candidate_id"] = conn.execute(
                sa.insert(ScreeningCandidate).values(mission_code="THA", beneficiary_id="BEN-1000003", version=1)
            ).inserted_primary_key[0]
        with self.engine.begin() as conn:  # HQ's row, as the matching job writes it
            ids["match_id"] = conn.execute(
                sa.insert(RetraffickingMatch).values(
                    earlier_mission="THA",
                    earlier_case_id=ids["case_id"],
                    earlier_case_number="THA-CT-1",
                    earlier_opened_on=date(2025, 2, 3),
                    later_mission="KHM",
                    later_case_id=ids["case_id"],
                    later_case_number="KHM-CT-1",
                    later_opened_on=date(2026, 2, 3),
                    evidence="document",
                    score=1,
                    explanation="same_document",
                    shared_with_earlier=False,
                    status="open",
                    version=1,
                )
            ).inserted_primary_key[0]
        self.ids = ids

    def base(self, schema: type | None) -> dict[str, Any]:
        """A valid form, at the case's current version (an accepted example moved it on)."""
        data = dict(VALID.get(schema, {}))
        if schema is PerpetratorSchema:
            data["event_ids"] = [str(self.ids["event_id"])]
        if schema in (AcceptHandoverSchema, ReceptionSchema):  # on KHM's calendar, not before the proposal
            khm_today = mission_today({"time_zone": TIME_ZONES["KHM"]}).isoformat()
            data["opened_on" if schema is AcceptHandoverSchema else "arrived_on"] = khm_today
        if schema in (AcceptHandoverSchema, DeclineHandoverSchema):
            with self.engine.connect() as conn:  # the hand-over's own version, not the case's
                data["version"] = conn.scalar(sa.select(Handover.version))
        elif schema is FundDecisionSchema:  # the request's own version
            with self.engine.connect() as conn:
                data["version"] = conn.scalar(
                    sa.select(FundRequest.version).where(FundRequest.id == self.ids["request_id"])
                )
        elif schema is MatchDecisionSchema:  # the match's own version
            with self.engine.connect() as conn:
                data["version"] = conn.scalar(
                    sa.select(RetraffickingMatch.version).where(RetraffickingMatch.id == self.ids["match_id"])
                )
        elif schema in (PartnerEditSchema, PartnerStatusSchema):  # the partner's own version
            with self.engine.connect() as conn:
                data["version"] = conn.scalar(sa.select(Partner.version).where(Partner.id == self.ids["partner_id"]))
        elif schema is DismissCandidateSchema:  # the candidate's own version
            data["version"] = 1
        elif schema is LinkToHostSchema:  # KHM's case, once an accepted example opened it
            with self.engine.connect() as conn:
                data["version"] = conn.scalar(sa.select(Case.version).where(Case.mission_code == "KHM")) or 1
        elif schema is not None and "version" in schema().fields:
            data["version"] = self.version()
        return data

    def version(self) -> int:
        with self.engine.connect() as conn:
            return conn.scalar(sa.select(Case.version).where(Case.beneficiary_id == PERSON)) or 1

    def url(self, endpoint: str, ids: dict[str, Any]) -> str:
        rule = next(self.app.url_map.iter_rules(endpoint))
        return self.app.url_map.bind("localhost").build(endpoint, {k: ids[k] for k in rule.arguments})

    def post(self, endpoint: str, user: str, data: dict[str, Any], ids: dict[str, Any] | None = None):  # noqa: ANN201
        return self.browsers[user].post(self.url(endpoint, ids or self.ids), data)


@pytest.fixture
def site(connected_live_host, login_to) -> Site:  # noqa: ANN001
    return Site(connected_live_host, login_to)


def changes_to(schema: type | None) -> st.SearchStrategy[dict[str, Any]]:
    """One field of the form (now and then an unknown one) set to hostile text, or to a list of it:
    the rest of the form stays valid, so that the value goes as deep as it can."""
    names = [*(schema().fields if schema else ()), "csrf_token"]
    value = st.one_of(hostile_text(), st.lists(hostile_text(), max_size=3))
    unknown = st.builds(lambda name, v: {name: v}, st.text(max_size=10), hostile_text())
    return st.one_of(st.builds(lambda name, v: {name: v}, st.sampled_from(names), value), unknown)


@pytest.mark.parametrize("page", list(FORMS))
def test_any_value_in_any_ct_form_is_answered_and_a_refusal_saves_nothing(site: Site, page: str) -> None:
    forms = FORMS[page]

    @EXAMPLES
    @given(form=st.sampled_from(forms), data=st.data())
    def post_anything(form: Form, data: st.DataObject) -> None:
        base = site.base(form.schema)
        changes = data.draw(changes_to(form.schema), label="changes")
        before = snapshot(site.engine)
        response = site.post(form.endpoint, form.user, {**base, **changes}, {**site.ids, "mission": form.mission})
        body = response.get_data(as_text=True)
        assert_answered(response.status_code, body, before, lambda: snapshot(site.engine), (form.endpoint, changes))

    post_anything()
