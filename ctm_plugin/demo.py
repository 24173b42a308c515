"""The demo's stories, told through the CTM's own use cases: a THA case handed over to KHM (``mimosa-host ctm
demo handover``); a KHM case's reintegration over 13 months, and the global emergency fund topped up and
answering a THA request (``mimosa-host ctm demo reintegration``); a few hundred synthetic THA and KHM cases
of past years for the trends (``mimosa-host ctm demo research``); a recruiter's alias shared by two THA cases and
a KHM case, for the intelligence pages (``mimosa-host ctm demo intelligence``).

Run after the host's ``demo seed`` (``make demo`` runs them all); everything in them is synthetic. The
host's seed writes no CTM row: the CTM's tables are its own.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa

from ctm_plugin.domain import palermo
from ctm_plugin.domain import trends as trend_counts
from ctm_plugin.domain.assistance import AssistanceService, Consent
from ctm_plugin.domain.case import Case, PersonProfile, VictimContext
from ctm_plugin.domain.fund import FundRequest
from ctm_plugin.domain.handover import Handover
from ctm_plugin.domain.mission_time import mission_today
from ctm_plugin.domain.monitoring import REACHED, MonitoringVisit
from ctm_plugin.domain.partners import INBOUND, Partner, SharingAgreement
from ctm_plugin.domain.process import TraffickingEvent
from ctm_plugin.domain.reintegration import provider_key
from ctm_plugin.domain.retrafficking import CONFIRMED, OPEN, RetraffickingMatch
from ctm_plugin.domain.scope import hq_session, mission_session
from ctm_plugin.domain.screening import Determination
from ctm_plugin.schemas.fund import APPROVE
from ctm_plugin.schemas.mission_settings import project_codes, providers
from ctm_plugin.security.permissions import RETRAFFICKING_REVIEW, ROLES
from ctm_plugin.services import (
    assistance,
    cases,
    fund,
    handover,
    monitoring,
    partners,
    preparation,
    process,
    reintegration,
    retrafficking,
    returns,
    screening,
)
from ctm_plugin.services.base import unit_of_work, version_of
from mimosa_host.plugin_api import RequestContext, UserRef

PERSON = "BEN-1000005"
"""A THA beneficiary of the demo, returning to Cambodia."""
SEED = UserRef(0, "demo-seed", "Demo seed")


def _as_seed(ctx: RequestContext) -> RequestContext:
    return dataclasses.replace(ctx, user=SEED)


def propose(ctx: RequestContext) -> int | None:
    """In THA: the case, its consents, a return to KHM and the proposal; ``None`` if the demo has them already."""
    ctx = _as_seed(ctx)
    with mission_session(ctx) as session:
        if session.scalar(sa.select(Case.id).where(Case.beneficiary_id == PERSON)) is not None:
            return None
    today = mission_today(ctx.settings)
    case_id = cases.open_case(ctx, PERSON, {"opened_on": (today - timedelta(days=40)).isoformat()})
    book_return_to_khm(ctx, case_id, ("Return", "HandOver"), "SYN-LP-0005")
    proposal = {
        "version": version_of(ctx, case_id),
        "to_mission": "KHM",
        "family_name": "Synthetic",
        "given_name": "Sokha",
        "medical_needs": "Synthetic: a medical check-up on arrival.",
        "shelter_needs": "Synthetic: two weeks in a shelter while the family is traced.",
        "contact": "Demo THA caseworker, +66 2 000 0000",
    }
    return handover.propose(ctx, case_id, proposal)


def book_return_to_khm(ctx: RequestContext, case_id: int, purposes: tuple[str, ...], document_number: str) -> None:
    """The case's consents (``purposes``), its return checklist and a return booked to Cambodia in two weeks."""
    today = mission_today(ctx.settings)
    for purpose in purposes:
        consent = {
            "version": version_of(ctx, case_id),
            "purpose": purpose,
            "items": ["ConsentedToInterview", "InformedOfPurpose", "InformedOfWithdrawal"],
            "given_on": (today - timedelta(days=20)).isoformat(),
            "method": "Written",
        }
        assistance.record_consent(ctx, case_id, consent)
    departure = (today + timedelta(days=14)).isoformat()
    checklist = {
        "version": version_of(ctx, case_id),
        "planned_departure": departure,
        "destination_country": "KHM",
        "counselled_on": (today - timedelta(days=10)).isoformat(),
        "document_kind": "LAISSEZ_PASSER",
        "document_number": document_number,
        "document_expiry": (today + timedelta(days=180)).isoformat(),
        "fit_to_travel": True,
        "risk_level": "LOW",
        "risk_reason": "Synthetic: family traced and willing; no threat known.",
        "family_traced": True,
        "family_assessment": "POSITIVE",
    }
    preparation.save_checklist(ctx, case_id, checklist)
    booking = {
        "version": version_of(ctx, case_id),
        "project_code": "THA-CT-01",
        "origin_country": "THA",
        "origin_location": "BKK",
        "destination_country": "KHM",
        "destination_location": "PNH",
        "earliest_departure": departure,
        "escort": "OPERATIONAL",
        "fit_to_travel": True,
    }
    returns.book_return(ctx, case_id, booking)


def accept(ctx: RequestContext, handover_id: int) -> int:
    """In KHM: accept the hand-over, opening KHM's own case; returns its id."""
    ctx = _as_seed(ctx)
    with mission_session(ctx) as session:
        version = session.get_one(Handover, handover_id).version
    return handover.accept(ctx, handover_id, {"version": version, "opened_on": mission_today(ctx.settings).isoformat()})


# -- reintegration and the emergency fund ------------------------------------------------------------------

REINTEGRATION_PERSON = "BEN-2000007"
"""A KHM beneficiary of the demo, back in Cambodia for about 13 months, whose reintegration is followed."""
FUND_PERSON = "BEN-1000009"
"""A THA beneficiary of the demo, for whom THA asks the global emergency fund for medical care."""
RETURNED_DAYS_AGO = 396
"""About 13 months: the three monitoring visits (3, 6 and 12 months) all lie in the past."""

USERS = {
    "caseworker": ("Dara Caseworker", "ctm.caseworker", False),
    "khm.caseworker": ("Sophea KHM Caseworker", "ctm.caseworker", False),
    "supervisor": ("Vichea Supervisor", "ctm.supervisor", False),
    "hq": ("Ana HQ Programme Manager", "ctm.hq_programme_manager", True),
    "admin": ("Mai Mission Admin", "ctm.mission_admin", False),
}
"""The host demo's users the stories act as: display name, the CTM role the host's demo grants them, HQ."""


def as_user(ctx: RequestContext, username: str) -> RequestContext:
    """``ctx`` (a command's, for one mission) acting as one of the demo's users with the permissions of the
    CTM role the demo grants them there: the use cases check them, and who requested and who approved."""
    display_name, role, hq = USERS[username]
    permissions = next(r.permissions for r in ROLES if r.name == role)
    return dataclasses.replace(ctx, user=UserRef(0, username, display_name, hq), permissions=frozenset(permissions))


@contextmanager
def _whole(ctx: RequestContext) -> Iterator[None]:
    """One transaction around a story: each use case's session joins it (a command's sessions share one
    connection), so a story is seeded whole or, if any step is refused, not at all."""
    with ctx.session_factory() as session, session.begin():
        session.connection()  # begun now, so that the use cases' sessions join it
        yield


def _has_case(ctx: RequestContext, person: str) -> bool:
    with mission_session(ctx) as session:
        return session.scalar(sa.select(Case.id).where(Case.beneficiary_id == person)) is not None


ELEMENTS = (
    # type, provider kind, objective, start and end (days after the return), budget, currency, status
    (
        "VocationalTraining",
        "NGO",
        "Synthetic: six months of tailoring training, with a certificate.",
        30,
        210,
        "600",
        "USD",
        "Completed",
    ),
    (
        "SelfEmployment",
        "IOM",
        "Synthetic: a sewing machine and a first stock for a tailoring business at home.",
        220,
        460,
        "800",
        "USD",
        "UnderWay",
    ),
    (
        "Psychological",
        "Government",
        "Synthetic: a counselling session every month for the first year.",
        20,
        385,
        "1200000",
        "KHR",
        "UnderWay",
    ),
)

SURVEYS = (
    # the scoring model's answers at 3, 6 and 12 months: economic, social, psychosocial and overall
    # 0.28 0.50 0.50 0.41, then 0.58 0.88 1.00 0.79, then 0.08 0.88 0.60 0.47 (economic and psychosocial fall)
    {
        "income": "none",
        "work": "occasional",
        "debt": "manageable",
        "food": "sometimes",
        "economic_satisfaction": "not",
        "housing": "temporary",
        "services": "partial",
        "documents": "in_progress",
        "network": "some",
        "safety": "sometimes",
        "wellbeing": "sometimes",
        "family": "distant",
        "remigration": "thinks",
    },
    {
        "income": "irregular",
        "work": "occasional",
        "debt": "manageable",
        "food": "never",
        "economic_satisfaction": "partly",
        "housing": "stable",
        "services": "full",
        "documents": "held",
        "network": "some",
        "safety": "safe",
        "wellbeing": "rarely",
        "family": "supportive",
        "remigration": "no",
    },
    {
        "income": "none",
        "work": "none",
        "debt": "unpayable",
        "food": "sometimes",
        "economic_satisfaction": "not",
        "housing": "stable",
        "services": "full",
        "documents": "held",
        "network": "some",
        "safety": "sometimes",
        "wellbeing": "sometimes",
        "family": "supportive",
        "remigration": "thinks",
    },
)
VISITS: tuple[tuple[int, int, str, list[str], str], ...] = (
    # month, days after the return, mode, re-trafficking risks, notes
    (3, 91, "InPerson", ["NoIncome"], "Synthetic: in training, staying with an aunt until a room is found."),
    (6, 183, "Phone", [], "Synthetic: certificate received, sewing for a neighbour's shop; family close again."),
    (
        12,
        366,
        "InPerson",
        ["NoIncome", "Debt", "TraffickerContact"],
        "Synthetic: the shop closed; borrowed from a lender; a recruiter has called. Supervisor told.",
    ),
)


def reintegrate(ctx: RequestContext) -> int | None:
    """In KHM: the reintegration of a person back for about 13 months; returns the case's id, or ``None`` if
    the demo has it already.

    The KHM caseworker opens the case, starts its monitoring on the return's day, records the plan agreed
    with three elements (one of each kind of the mission's providers), requests two disbursements that the
    supervisor approves (the first one paid) and records the visits at 3, 6 and 12 months with their
    surveys: the scores rise, then fall, and the last visit's risks reach the supervisor's alert threshold.
    """
    caseworker, supervisor = as_user(ctx, "khm.caseworker"), as_user(ctx, "supervisor")
    if _has_case(caseworker, REINTEGRATION_PERSON):
        return None
    returned = mission_today(ctx.settings) - timedelta(days=RETURNED_DAYS_AGO)

    def day(after: int) -> str:
        return (returned + timedelta(days=after)).isoformat()

    def version(case_id: int) -> dict[str, int]:
        return {"version": version_of(caseworker, case_id)}

    offered = providers(ctx.settings)
    by_kind = {kind: provider_key(kind, name) for kind, name in reversed(offered)}  # the first of each kind
    project = project_codes(ctx.settings)[1]
    with _whole(ctx):
        case_id = cases.open_case(caseworker, REINTEGRATION_PERSON, {"opened_on": day(0)})
        monitoring.set_start(caseworker, case_id, {**version(case_id), "start_on": day(0)})
        elements = []
        for kind, provider, objective, start, end, budget, currency, status in ELEMENTS:
            element = {
                "type": kind,
                "objective": objective,
                "provider": by_kind.get(provider) or (provider_key(*offered[0]) if offered else provider),
                "start_on": day(start),
                "end_on": day(end),
                "budget": budget,
                "currency": currency,
                "status": status,
            }
            elements.append(reintegration.add_element(caseworker, case_id, {**version(case_id), **element}))
        reintegration.agree_plan(caseworker, case_id, {**version(case_id), "agreed_on": day(21)})
        requests = (
            (elements[0], "600", "Provider", "Synthetic: the training's fees, for the whole course."),
            (elements[1], "450", "Person", "Synthetic: the sewing machine, bought by the person with a receipt."),
        )
        disbursements = []
        for element_id, amount, payee, purpose in requests:
            request = {"amount": amount, "project_code": project, "payee": payee, "purpose": purpose}
            d = reintegration.request_disbursement(caseworker, case_id, element_id, {**version(case_id), **request})
            reintegration.decide_disbursement(supervisor, case_id, d, {**version(case_id), "decision": "approve"})
            disbursements.append(d)
        payment = {  # dated the day it is recorded: a payment is never dated before its approval, recorded today
            "paid_on": mission_today(caseworker.settings).isoformat(),
            "payment_method": "BankTransfer",
            "receipt_reference": "SYN-RCPT-2007-01",
            "payee": "Provider",
        }
        reintegration.record_payment(caseworker, case_id, disbursements[0], {**version(case_id), **payment})
        for (month, after, mode, risks, notes), answers in zip(VISITS, SURVEYS, strict=True):
            visit = {
                "visited_on": day(after),
                "schedule_month": str(month),
                "mode": mode,
                "outcome": REACHED,
                "risks": risks,
                "notes": notes,
                **monitoring.answers_form(answers),
            }
            monitoring.record_visit(caseworker, case_id, {**version(case_id), **visit})
    return case_id


FUND_REQUEST = "850"
FUND_TOP_UP = "20000"


def emergency(ctx: RequestContext) -> tuple[int, str] | None:
    """In THA, and HQ: the global emergency fund topped up by a (synthetic) donor, and THA's request for a
    case's medical care approved by HQ; returns the request's id and its state, or ``None`` if the demo has
    them already.

    HQ decides from THA's context: without a user's HQ scope (a command's), ``missions_with`` is the one
    mission where the user holds the permission, which is the request's.
    """
    caseworker, hq = as_user(ctx, "caseworker"), as_user(ctx, "hq")
    if _has_case(caseworker, FUND_PERSON):
        return None
    today = mission_today(ctx.settings)
    with _whole(ctx):
        top_up = {
            "amount": FUND_TOP_UP,
            "donor": "Example Donor C",
            "project_code": "GEF-DEMO-01",
            "on_date": (today - timedelta(days=30)).isoformat(),
            "reference": "SYN-TOPUP-0001",
        }
        fund.top_up(hq, top_up)
        case_id = cases.open_case(caseworker, FUND_PERSON, {"opened_on": (today - timedelta(days=25)).isoformat()})
        request = {
            "version": version_of(caseworker, case_id),
            "kind": "Medical",
            "amount": FUND_REQUEST,
            "currency": fund.fund_terms(ctx).currency,
            "justification": "Synthetic: surgery after an injury at work; no other source of funding.",
        }
        request_id = fund.request_assistance(caseworker, case_id, request)
        with mission_session(hq) as session:
            request_version = session.get_one(FundRequest, request_id).version
        state = fund.decide_request(hq, ctx.mission.code, request_id, {"version": request_version, "decision": APPROVE})
    return request_id, state


# -- what is due ---------------------------------------------------------------------------------------------

DUE_PERSON = "BEN-1000003"
"""A THA beneficiary of the demo whose case has work waiting: two follow-ups (one overdue) and a referral."""


def what_is_due(ctx: RequestContext) -> int | None:
    """In THA, as ``caseworker``: a case with a follow-up overdue by three days, another in a week, and a
    referral to a shelter sent three weeks ago still awaiting its answer; ``None`` if the case is there already.

    The people to screen need no story: the host's demo flags about half its beneficiaries ``VOT``, and the
    pull job (run when the server starts) lists those without a case."""
    from ctm_plugin.services import follow_ups

    ctx = as_user(ctx, "caseworker")
    if _has_case(ctx, DUE_PERSON):
        return None
    today = mission_today(ctx.settings)
    with _whole(ctx):
        case_id = cases.open_case(ctx, DUE_PERSON, {"opened_on": (today - timedelta(days=30)).isoformat()})
        for offset, note in (
            (-3, "Synthetic: call the shelter about the person's medical appointment."),
            (7, "Synthetic: check that the legal aid lawyer has the statement."),
        ):
            follow_up = {"version": version_of(ctx, case_id), "due_on": (today + timedelta(days=offset)).isoformat()}
            follow_ups.add_follow_up(ctx, case_id, {**follow_up, "owner": "caseworker", "note": note})
        consent = {
            "version": version_of(ctx, case_id),
            "purpose": "Referral",
            "items": ["ConsentedToInterview", "InformedOfPurpose"],
            "given_on": (today - timedelta(days=25)).isoformat(),
            "method": "Written",
        }
        assistance.record_consent(ctx, case_id, consent)
        referral = {
            "version": version_of(ctx, case_id),
            "direction": "Outgoing",
            "organisation": "Synthetic Safe Haven Shelter",
            "organisation_type": "NGO",
            "referred_on": (today - timedelta(days=21)).isoformat(),
            "reason": "AdditionalServicesRequired",
        }
        assistance.refer(ctx, case_id, referral)
    return case_id


# -- cases in every stage, for the case lists -------------------------------------------------------------

STAGED = (
    # person, stage, owner, opened (days ago)
    ("BEN-1000011", "screening", "caseworker", 3),
    ("BEN-1000012", "screening", "supervisor", 12),
    ("BEN-1000013", "assistance", "caseworker", 30),
    ("BEN-1000014", "assistance", "supervisor", 45),
    ("BEN-1000015", "return", "caseworker", 60),
    ("BEN-1000016", "closed", "caseworker", 90),
)
"""THA's demo cases for the lists: a screening stage awaits HQ's determination; the hand-over (``BEN-1000005``)
and the reintegration (KHM's ``BEN-2000007``) come from their own stories."""


def cases_in_every_stage(ctx: RequestContext) -> int:
    """In THA: a case in each stage the CTM tells apart (and a closed one), each as its owner works it; returns
    how many were seeded (0 when the demo has them all already)."""
    today = mission_today(ctx.settings)
    seeded = 0
    with _whole(ctx):
        for person, stage, owner, days_ago in STAGED:
            worker = as_user(ctx, owner)
            if _has_case(worker, person):
                continue
            opened = today - timedelta(days=days_ago)
            case_id = cases.open_case(worker, person, {"opened_on": opened.isoformat()})
            _screen(worker, case_id, opened + timedelta(days=1))
            if stage in ("assistance", "return", "closed"):
                determination = {"decision": palermo.VICTIM, "reason": "Synthetic: act, means and purpose shown."}
                screening.determine(as_user(ctx, "hq"), case_id, {**determination, "version": version_of(ctx, case_id)})
            if stage == "return":
                book_return_to_khm(_as_seed(ctx), case_id, ("Return",), f"SYN-LP-{person[-4:]}")
            if stage == "closed":
                closing = {
                    "status": "Closed",
                    "close_reason": "GoalsMet",
                    "closed_on": (opened + timedelta(days=30)).isoformat(),
                    "reason": "Synthetic: the case plan's goals were met.",
                }
                cases.close_case(worker, case_id, {**closing, "version": version_of(ctx, case_id)})
            seeded += 1
    return seeded


def _screen(ctx: RequestContext, case_id: int, on: date) -> None:
    interview = {
        "interview_date": on.isoformat(),
        "place": "Synthetic: the mission's office",
        "interviewer": "Demo interviewer",
        "age_at_act": "24",
        "acts": ["Recruitment", "Transportation"],
        "means": ["Deception"],
        "purposes": ["ForcedLabour"],
    }
    screening.record_screening(ctx, case_id, {**interview, "version": version_of(ctx, case_id)})


RESEARCH_PEOPLE = {"THA": "BEN-11", "KHM": "BEN-21"}
"""The research story's people: the host's past beneficiaries of the mission (``mimosa-host demo past``),
``BEN-1100001`` on in THA; every case of the story opens on its host record."""
FORMER_CASEWORKER = "former.caseworker"
"""Who owned the research story's cases: a caseworker who has left (no login, no grant), so that the cases are
nobody's now and stay out of every demo user's **My cases**."""
RESEARCH_YEARS = (2021, 2022, 2023, 2024, 2025)
_RESEARCH_MIX = {
    # mission: (citizenships, countries of recruitment, countries of exploitation), each most common first
    "THA": (("MMR", "KHM", "LAO", "THA", "VNM"), ("MMR", "KHM", "LAO"), ("THA", "MYS", "IDN")),
    "KHM": (("KHM", "VNM", "LAO"), ("KHM", "VNM"), ("THA", "MYS", "CHN", "KHM")),
}


def research_cases(ctx: RequestContext, count: int, rng: random.Random | None = None) -> int:
    """In ``ctx``'s mission: ``count`` synthetic cases identified over :data:`RESEARCH_YEARS` with the coded
    facts trends count (sex, age, citizenship, exploitation types and countries, means of control, recruiter,
    assistance, a reintegration survey's scores; most with the Research consent), each closed and owned by
    :data:`FORMER_CASEWORKER`, written in bulk through the mission's session, and the mission's trend counts made;
    how many were seeded (0 if they are there). The people are the host's past beneficiaries (the first
    ``count`` of them); the person's sex, age and citizenship written here stand until the pull job brings the
    host's own."""
    rng = rng or random.Random(f"research-{ctx.mission.code}")  # noqa: S311 - synthetic data, not a secret
    code = ctx.mission.code
    citizenships, recruited, exploited = _RESEARCH_MIX.get(code, _RESEARCH_MIX["THA"])

    def skewed(values: tuple[str, ...], draw: random.Random = rng) -> str:  # the first the most common: small cells
        return draw.choices(values, weights=[2 ** (len(values) - i) for i in range(len(values))])[0]

    with mission_session(ctx) as session, session.begin():
        stem = RESEARCH_PEOPLE.get(code, f"BEN-{code}-R")
        if session.scalar(sa.select(Case.id).where(Case.beneficiary_id.startswith(stem)).limit(1)) is not None:
            return 0
        numbers: dict[int, int] = {}
        for n in range(1, count + 1):
            year = rng.choice(RESEARCH_YEARS)
            numbers[year] = numbers.get(year, 0) + 1
            opened = date(year, rng.randint(1, 12), rng.randint(1, 28))
            case = Case(
                mission_code=code,
                case_number=f"{code}-R-{year}-{numbers[year]:05d}",
                beneficiary_id=f"{stem}{n:05d}",
                status="Closed",
                close_reason=rng.choice(("GoalsMet", "Reintegrated", "LostContact")),
                owner=FORMER_CASEWORKER,
                opened_on=opened,
                closed_on=min(opened + timedelta(days=rng.randint(60, 540)), date(2025, 12, 31)),
                updated_at=datetime(year, opened.month, opened.day, tzinfo=UTC),
                updated_by="demo-seed",
            )
            # The host's record as the host's demo draws it, by the person's id (mimosa_host/demo.py, seed_past):
            # the sex, the year of birth (estimated), the nationality; the first pull then changes nothing.
            person = random.Random(case.beneficiary_id)  # noqa: S311 - synthetic data, not a secret
            gender = person.choices(("Feminine", "Masculine", "NonSpecifiedUnknown"), weights=(60, 37, 3))[0]
            born = person.randrange(1975, 2010)
            case.person = PersonProfile(
                mission_code=code,
                gender=gender,
                citizenships=[skewed(citizenships, person)],
                birth_date=date(born, 6, 15),
                birth_date_precision="Year",
            )
            types = ["SexualExploitation"] if rng.random() < 0.4 else ["ForcedLabour"]
            if rng.random() < 0.08:
                types.append(rng.choice(("ForcedBegging", "ForcedMarriage", "Servitude")))
            case.victim = VictimContext(
                mission_code=code,
                trafficking_status="ActualVictimOfTrafficking",
                exploitation_types=types,
                control_methods=rng.sample(("DebtBondage", "WithholdsDocuments", "Threats", "FalsePromises"), 2),
                recruiter_relationship=rng.choices(("Friend", "Family", "IntimatePartner", "Other"), (5, 3, 1, 1))[0],
            )
            session.add(case)
            session.flush()
            session.add_all(
                [
                    TraffickingEvent(
                        mission_code=code, case_id=case.id, sequence=1, type="Recruitment", country=skewed(recruited)
                    ),
                    TraffickingEvent(
                        mission_code=code, case_id=case.id, sequence=2, type="Exploitation", country=skewed(exploited)
                    ),
                    Determination(  # past screening: the case shows in the lists at the assistance stage
                        mission_code=code,
                        case_id=case.id,
                        decision=palermo.VICTIM,
                        reason="Synthetic: act, means and purpose shown.",
                        decided_by="hq",
                        decided_at=case.updated_at,
                    ),
                    AssistanceService(
                        mission_code=code,
                        case_id=case.id,
                        type=rng.choice(("Shelter", "Medical", "Psychosocial", "Legal")),
                        provider="Synthetic provider",
                        status="Completed",
                    ),
                ]
            )
            if rng.random() < 0.8:
                session.add(
                    Consent(
                        mission_code=code,
                        case_id=case.id,
                        purpose="Research",
                        items=["InformedOfResearchUse"],
                        given_on=opened,
                        method="Written",
                        recorded_by="demo-seed",
                    )
                )
            if year <= 2024 and rng.random() < 0.5:
                scores = {d: f"{rng.uniform(0.2, 0.95):.2f}" for d in ("economic", "social", "psychosocial")}
                session.add(
                    MonitoringVisit(
                        mission_code=code,
                        case_id=case.id,
                        visited_on=opened + timedelta(days=365),
                        mode="InPerson",
                        outcome=REACHED,
                        model_key="iom-rss",
                        model_version=1,
                        answers={},
                        scores=scores,
                        overall=Decimal(scores["economic"]),
                        recorded_by="demo-seed",
                    )
                )
        trend_counts.refresh(session, mission_today(ctx.settings))
    return count


# -- re-trafficking -----------------------------------------------------------------------------------------------

RETRAFFICKED = ("BEN-1000017", "BEN-2000017")
"""The same person in the demo's two CTM missions: a THA case a year ago, and a new KHM case now."""
RETRAFFICKED_PASSPORT = "SYN-PP-0417"
"""The passport both missions' return checklists hold (synthetic): the match's evidence."""


def earlier_case(ctx: RequestContext) -> int | None:
    """In THA: the case of a year ago, its return checklist holding the passport; ``None`` if it is there."""
    return _case_with_passport(ctx, RETRAFFICKED[0], days_ago=400, purposes=())


def later_case(ctx: RequestContext) -> int | None:
    """In KHM: the new case with the same passport, and the person's consent to another mission learning of it
    (``HandOver``), so that THA sees a flag on its case; ``None`` if it is there."""
    return _case_with_passport(ctx, RETRAFFICKED[1], days_ago=5, purposes=("HandOver",))


def confirm_match(ctx: RequestContext) -> bool:
    """In THA, as the demo's ``hq``: the demo's match (found by the job) confirmed, so that THA's case shows the
    flag (the earlier mission sees a confirmed match only); ``False`` if there is none open to confirm."""
    hq = as_user(ctx, "hq")
    with hq_session(hq, RETRAFFICKING_REVIEW) as session, session.begin():
        found = session.scalar(
            sa.select(RetraffickingMatch).where(
                RetraffickingMatch.earlier_mission == hq.mission.code,
                RetraffickingMatch.later_mission == "KHM",
                RetraffickingMatch.status == OPEN,
            )
        )
        if found is None:
            return False
        reason = "Synthetic: the same passport on both return checklists, checked with both missions."
        retrafficking.record_decision(hq, found, CONFIRMED, reason)
    return True


def _case_with_passport(ctx: RequestContext, person: str, days_ago: int, purposes: tuple[str, ...]) -> int | None:
    ctx = _as_seed(ctx)
    if _has_case(ctx, person):
        return None
    opened = mission_today(ctx.settings) - timedelta(days=days_ago)
    with _whole(ctx):
        case_id = cases.open_case(ctx, person, {"opened_on": opened.isoformat()})
        _checklist_with_passport(ctx, case_id, opened + timedelta(days=1), purposes)
    return case_id


def _checklist_with_passport(ctx: RequestContext, case_id: int, on: date, purposes: tuple[str, ...]) -> None:
    for purpose in purposes:
        consent = {
            "version": version_of(ctx, case_id),
            "purpose": purpose,
            "items": ["ConsentedToInterview", "InformedOfPurpose", "InformedOfWithdrawal"],
            "given_on": on.isoformat(),
            "method": "Written",
        }
        assistance.record_consent(ctx, case_id, consent)
    checklist = {
        "version": version_of(ctx, case_id),
        "counselled_on": on.isoformat(),
        "document_kind": "PASSPORT",
        "document_number": RETRAFFICKED_PASSPORT,
        "document_expiry": (on + timedelta(days=3000)).isoformat(),
        "risk_level": "MEDIUM",
        "risk_reason": "Synthetic: identified again after a return.",
    }
    preparation.save_checklist(ctx, case_id, checklist)


# -- intelligence -------------------------------------------------------------------------------------------------

INTELLIGENCE_ALIAS = "Madam Lek"
"""The perpetrator's alias the story's three cases share (synthetic), written as each caseworker heard it."""
INTELLIGENCE_CASES = (
    # mission, person, the alias as written, the consent to sharing with law enforcement
    ("THA", "BEN-1000021", "Madam Lek", True),
    ("THA", "BEN-1000022", "MADAM  LÉK", False),
    ("KHM", "BEN-2000021", "madam lek", True),
)


def intelligence_cases(ctx: RequestContext) -> int:
    """In ``ctx``'s mission: its cases of :data:`INTELLIGENCE_CASES`, each recruited in Poipet (Cambodia) through
    friends and exploited in Bangkok (Thailand) by the same recruiter, whose alias each caseworker wrote their way;
    how many were seeded (0 if they are there)."""
    ctx = _as_seed(ctx)
    seeded = 0
    today = mission_today(ctx.settings)
    with _whole(ctx):
        for mission, person, alias, to_police in INTELLIGENCE_CASES:
            if mission != ctx.mission.code or _has_case(ctx, person):
                continue
            opened = today - timedelta(days=20 + 10 * seeded)
            case_id = cases.open_case(ctx, person, {"opened_on": opened.isoformat()})
            cases.update_victim(
                ctx,
                case_id,
                {
                    "version": version_of(ctx, case_id),
                    "recruitment_methods": ["ThroughFriendsOrSocialEvents"],
                    "exploitation_types": ["ForcedLabour"],
                },
            )
            events = []
            for kind, country, locality in (("Recruitment", "KHM", "Poipet"), ("Exploitation", "THA", "Bangkok")):
                event = {"version": version_of(ctx, case_id), "type": kind, "country": country, "locality": locality}
                events.append(process.add_event(ctx, case_id, event))
            perpetrator = {
                "version": version_of(ctx, case_id),
                "alias": alias,
                "roles": ["RecruiterOrIntermediary"],
                "nationality": "THA",
                "event_ids": [str(events[0])],
            }
            process.add_perpetrator(ctx, case_id, perpetrator)
            if to_police:
                consent = {
                    "version": version_of(ctx, case_id),
                    "purpose": "LawEnforcement",
                    "items": ["ConsentedToInterview", "InformedOfPurpose", "InformedOfWithdrawal"],
                    "given_on": opened.isoformat(),
                    "method": "Written",
                }
                assistance.record_consent(ctx, case_id, consent)
            seeded += 1
    return seeded


# -- partners ----------------------------------------------------------------------------------------------------

PARTNER_NAME = "Synthetic Safe Harbour Shelter"
"""THA's demo partner (synthetic): an approved agreement in force, a second version awaiting HQ."""
PARTNER_TERMS = {
    "purposes": ["ReferralAssistance", "FollowUp"],
    "fields_ReferralAssistance": ["person.given_name", "person.sex", "person.languages", "referral.needs"],
    "consent_ReferralAssistance": "Referral",
    "fields_FollowUp": ["follow_up.status", "follow_up.services_provided"],
    "consent_FollowUp": "Services",
}


def partner(ctx: RequestContext) -> int | None:
    """In THA: a shelter as a partner, added by the mission administrator, its agreement (version 1) approved by HQ
    and in force, a version 2 (adding hand-overs) awaiting HQ, and one referral received under version 1; the
    partner's id, or ``None`` if the demo has it already. No credential: the administrator issues one (its secret
    is shown once)."""
    admin, hq = as_user(ctx, "admin"), as_user(ctx, "hq")
    with mission_session(admin) as session:
        if session.scalar(sa.select(Partner.id).where(Partner.name == PARTNER_NAME)) is not None:
            return None
    today = mission_today(ctx.settings)
    dates = {
        "valid_from": (today - timedelta(days=60)).isoformat(),
        "valid_until": (today + timedelta(days=305)).isoformat(),
    }
    with _whole(ctx):
        contact = "Intake desk, intake@safe-harbour.example, +66 2 000 0000"
        partner_id = partners.add_partner(admin, {"name": PARTNER_NAME, "kind": "Shelter", "contact": contact})
        partners.draft_agreement(admin, partner_id, {**PARTNER_TERMS, **dates})
        with mission_session(admin) as session:
            first = session.scalars(
                sa.select(SharingAgreement.id).where(SharingAgreement.partner_id == partner_id)
            ).one()
        partners.approve_agreement(hq, ctx.mission.code, first)
        handing_over = {
            "purposes": [*PARTNER_TERMS["purposes"], "HandOver"],
            "fields_HandOver": ["person.given_name", "person.family_name", "person.birth_date", "referral.needs"],
            "consent_HandOver": "HandOver",
        }
        partners.draft_agreement(admin, partner_id, {**PARTNER_TERMS, **dates, **handing_over})
        with unit_of_work(admin) as session:
            partners.record_exchange(
                session, admin, partner_id, INBOUND, "SubmitReferral", "SYN-SH-0001", 1, "accepted"
            )
    return partner_id
