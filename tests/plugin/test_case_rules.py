"""Rules found in review: no birth-date oracle, the trafficking status follows the determination,
referral consent on the referral's date, numbering past 99,999, no bulk writes across missions."""

from __future__ import annotations

import dataclasses

import pytest
import sqlalchemy as sa

from ctm_plugin.domain.assistance import Referral
from ctm_plugin.domain.case import Case, VictimContext
from ctm_plugin.domain.scope import MissionScopeViolation, mission_session
from ctm_plugin.security.permissions import IDENTITY_VIEW
from ctm_plugin.services import assistance, cases, process, screening
from ctm_plugin.services.base import Invalid
from tests.plugin.test_services import OPENED, THA_PERSON, World


@pytest.fixture
def w(demo) -> World:  # noqa: ANN001
    return World(demo)


def test_dates_are_not_checked_against_a_birth_date_the_user_may_not_see(w: World):
    case_id = w.open()
    caseworker = w.ctx("caseworker")
    cases.update_person(
        caseworker, case_id, {"version": "1", "birth_date": "1990-06-15", "birth_date_precision": "Day"}
    )
    event = {"version": "2", "type": "Recruitment", "start_date": "1985-01-01"}
    with pytest.raises(Invalid) as refused:
        process.add_event(caseworker, case_id, event)
    assert "start_date" in refused.value.errors  # the caseworker sees the birth date: checked

    blind = dataclasses.replace(caseworker, permissions=caseworker.permissions - {IDENTITY_VIEW})
    process.add_event(blind, case_id, event)  # no oracle: the same date is not refused
    assert [e.start_date.year for e in process_events(w, case_id)] == [1985]


def process_events(w: World, case_id: int) -> list:
    with mission_session(w.ctx("caseworker")) as session:
        return process.events_of(session, case_id)


def test_the_trafficking_status_follows_the_determination_and_is_not_edited_around_it(w: World):
    case_id = w.open()
    with pytest.raises(Invalid) as refused:
        cases.update_victim(
            w.ctx("caseworker"),
            case_id,
            {"version": "1", "trafficking_status": "ActualVictimOfTrafficking", "status_decided_by": "NGO"},
        )
    assert set(refused.value.errors) == {"trafficking_status", "status_decided_by"}
    assert w.one(VictimContext, case_id=case_id).trafficking_status is None

    screening.determine(w.ctx("hq"), case_id, {"version": "1", "decision": "VictimOfTrafficking", "reason": "r"})
    victim = w.one(VictimContext, case_id=case_id)
    assert (victim.trafficking_status, victim.status_decided_by) == ("ActualVictimOfTrafficking", "Other")

    # A caseworker's other edits leave the determined status as it is.
    cases.update_victim(w.ctx("caseworker"), case_id, {"version": "2", "exploitation_types": ["ForcedLabour"]})
    assert w.one(VictimContext, case_id=case_id).trafficking_status == "ActualVictimOfTrafficking"


def test_an_outgoing_referral_needs_consent_in_force_on_its_own_date(w: World):
    case_id = w.open()
    ctx = w.ctx("caseworker")
    assistance.record_consent(
        ctx,
        case_id,
        {
            "version": "1",
            "purpose": "Referral",
            "items": ["ConsentedToInterview"],
            "given_on": OPENED,
            "method": "Verbal",
        },
    )
    referral = {
        "version": "2",
        "direction": "Outgoing",
        "organisation": "Shelter",
        "organisation_type": "NGO",
        "reason": "AdditionalServicesRequired",
    }
    with pytest.raises(Invalid) as refused:
        assistance.refer(ctx, case_id, {**referral, "referred_on": "2020-01-01"})  # before the consent
    assert list(refused.value.errors) == ["direction"]
    assistance.refer(ctx, case_id, {**referral, "referred_on": OPENED})
    assert len(w.all(Referral, case_id=case_id)) == 1


def test_case_numbers_go_on_past_99999(w: World):
    w.open()
    with w.rt.factory() as s, s.begin():
        s.execute(sa.update(Case).values(case_number="THA-CT-2026-99999"))
    second = w.open(person="BEN-1000002")
    third = w.open(person="BEN-1000003")
    numbers = {w.one(Case, id=i).case_number for i in (second, third)}
    assert numbers == {"THA-CT-2026-100000", "THA-CT-2026-100001"}


def test_bulk_writes_are_refused_in_a_mission_session(w: World):
    w.open()
    w.open(person="BEN-2000001", mission="KHM")
    with mission_session(w.ctx("caseworker")) as session, pytest.raises(MissionScopeViolation):
        session.execute(sa.update(Case).values(status="Closed"))
    with w.rt.factory() as s:
        assert set(s.scalars(sa.select(Case.status))) == {"Active"}


def test_a_person_opened_once_per_mission_is_found_by_beneficiary(w: World):
    case_id = w.open()
    with mission_session(w.ctx("caseworker")) as session:
        assert session.scalar(sa.select(Case.id).where(Case.beneficiary_id == THA_PERSON)) == case_id
