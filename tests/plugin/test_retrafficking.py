"""Re-trafficking: a person identified again in another mission is matched for HQ (the plugin-wide job), which
confirms or dismisses it; the earlier mission sees a flag where the person's consent allows it."""

from __future__ import annotations

import logging
from datetime import date

import pytest
import sqlalchemy as sa
from test_audit_chain import verify_cli
from test_handover import handed_over
from world import KHM_PERSON, World

from ctm_plugin.domain.assistance import Consent
from ctm_plugin.domain.case import Case, PersonProfile
from ctm_plugin.domain.fund import Fund
from ctm_plugin.domain.preparation import ReturnPreparation
from ctm_plugin.domain.retrafficking import (
    BIRTH_DATE_SWAPPED,
    CONFIRMED,
    DISMISSED,
    DOCUMENT,
    FLAGS,
    FUZZY,
    NAME_SIMILAR,
    OPEN,
    SAME_CITIZENSHIP,
    SAME_DOCUMENT,
    Identity,
    RetraffickingMatch,
    birth_dates_agree,
    name_similarity,
    normalised_name,
)
from ctm_plugin.domain.scope import MissionScopeViolation, hq_session, mission_session
from ctm_plugin.hooks.jobs import MATCHING
from ctm_plugin.security.permissions import CASE_EDIT, RETRAFFICKING_REVIEW
from ctm_plugin.services import retention, retrafficking
from ctm_plugin.services.base import Conflict, Invalid, NotFound, unit_of_work
from mimosa_host.context import acting_for, acting_for_plugin
from mimosa_host.db import WriteRefused

PASSPORT = "SYN1234567"
NAME = "Sokha Synthetic"


def run_matching(w: World) -> int:
    """The job as the host runs it: once, for the CTM, across its missions, in the context its ``Job`` declares."""
    with acting_for_plugin(w.rt, "ctm", job=MATCHING) as ctx:
        return retrafficking.match(ctx)


def person(
    w: World,
    case_id: int,
    name: str = NAME,
    born: date = date(1998, 4, 3),
    citizenship: str = "KHM",
    precision: str = "Day",
) -> None:
    """What the host's record gave the case's person (names sealed, birth date, citizenship)."""
    with w.rt.factory() as s, s.begin():
        profile = s.get(PersonProfile, case_id)
        profile.name, profile.birth_date, profile.citizenships = name, born, [citizenship]
        profile.birth_date_precision = precision


def document(w: World, case_id: int, mission: str, number: str = PASSPORT) -> None:
    with w.rt.factory() as s, s.begin():
        s.add(
            ReturnPreparation(
                mission_code=mission, case_id=case_id, document_kind="PASSPORT", document_number=number, updated_by="t"
            )
        )


def consent_to_share(w: World, case_id: int, mission: str) -> None:
    with w.rt.factory() as s, s.begin():
        s.add(
            Consent(
                mission_code=mission,
                case_id=case_id,
                purpose="HandOver",
                items=["ConsentedToInterview"],
                given_on=date(2026, 2, 3),
                method="Written",
                recorded_by="khm.caseworker",
            )
        )


def later_case(w: World) -> int:
    return w.open(KHM_PERSON, "khm.caseworker", "KHM")


@pytest.fixture
def same_passport(w: World) -> tuple[int, int]:
    """A THA case and, later, a KHM case of a person with the same passport (typed differently)."""
    earlier = w.open()
    document(w, earlier, "THA")
    later = later_case(w)
    with w.rt.factory() as s, s.begin():
        s.get(Case, later).opened_on = date(2026, 9, 1)
    document(w, later, "KHM", "syn-123 4567")
    return earlier, later


def test_names_are_compared_without_case_accents_or_order() -> None:
    assert normalised_name("  SYNTHÉTIQUE, Sokha ") == normalised_name("sokha synthetique")
    assert name_similarity(normalised_name("Sokha Synthetic"), normalised_name("Synthetic Sokhar")) >= 0.9
    assert name_similarity(normalised_name("Sokha Mey Synthetic"), normalised_name("Sokha Synthetic")) == 1
    assert name_similarity(normalised_name("Sokha Synthetic"), normalised_name("Sophal Synthetic")) < 0.9
    assert birth_dates_agree(date(1998, 4, 3), date(1998, 3, 4)) == BIRTH_DATE_SWAPPED
    assert birth_dates_agree(date(1998, 4, 3), date(1999, 4, 3)) is None


def test_the_same_passport_in_two_missions_is_one_match_for_hq_with_no_number_or_name(
    w: World, same_passport: tuple[int, int], caplog: pytest.LogCaptureFixture
) -> None:
    earlier, later = same_passport
    person(w, earlier)
    with caplog.at_level(logging.DEBUG):
        assert run_matching(w) == 1
    found = w.one(RetraffickingMatch)
    assert (found.earlier_mission, found.earlier_case_id, found.later_mission, found.later_case_id) == (
        "THA",
        earlier,
        "KHM",
        later,
    )
    assert (found.evidence, found.codes, found.status) == (DOCUMENT, [SAME_DOCUMENT], OPEN)
    stored = str(w.snapshot()["ctm_retrafficking_match"])
    assert PASSPORT not in stored and "1234567" not in stored and "Sokha" not in stored
    assert NAME not in caplog.text and PASSPORT not in caplog.text

    assert run_matching(w) == 0  # found again: not added again
    assert len(w.all(RetraffickingMatch)) == 1


def test_a_fuzzy_match_needs_similar_names_the_birth_date_and_a_citizenship(w: World) -> None:
    earlier, later = w.open(), later_case(w)
    person(w, earlier, "Sokha Synthetic", date(1998, 4, 3))
    person(w, later, "SYNTHETIC Sokhar", date(1998, 3, 4))  # day and month read the other way
    other = w.open("BEN-1000002")
    person(w, other, "Sophal Synthetic", date(1998, 4, 3))  # the family's other child: not a match
    foreign = w.open("BEN-1000003")
    person(w, foreign, "Sokha Synthetic", date(1998, 4, 3), citizenship="THA")  # another citizenship
    vague = w.open("BEN-1000004")
    person(w, vague, "Sokha Synthetic", date(1998, 1, 1), precision="Year")  # born in 1998: says too little
    person(w, w.open("BEN-1000006"), "Sokha Synthetic", date(1998, 1, 1), precision="Year")

    assert run_matching(w) == 1
    found = w.one(RetraffickingMatch)
    assert {found.earlier_case_id, found.later_case_id} == {earlier, later}
    assert found.evidence == FUZZY and found.score >= retrafficking_threshold()
    assert found.codes == [NAME_SIMILAR, BIRTH_DATE_SWAPPED, SAME_CITIZENSHIP]


def retrafficking_threshold():  # noqa: ANN201
    from ctm_plugin.domain.retrafficking import NAME_THRESHOLD

    return NAME_THRESHOLD


def test_cases_joined_by_a_hand_over_are_never_a_match(w: World) -> None:
    tha_case = handed_over(w)
    khm_case = w.one(Case, mission_code="KHM", beneficiary_id=f"HANDOVER-{_handover_id(w)}").id
    person(w, tha_case)
    person(w, khm_case)
    document(w, khm_case, "KHM")  # THA's checklist holds the same passport

    assert run_matching(w) == 0
    assert w.all(RetraffickingMatch) == []


def _handover_id(w: World) -> int:
    from ctm_plugin.domain.handover import Handover

    return w.one(Handover).id


def test_hq_sees_the_match_and_confirms_it_with_a_reason_audited(w: World, same_passport: tuple[int, int]) -> None:
    run_matching(w)
    hq = w.request_ctx("hq")
    (seen,) = retrafficking.hq_matches(hq)
    assert (seen.earlier.code, seen.later.code, seen.codes) == ("THA", "KHM", [SAME_DOCUMENT])

    retrafficking.decide(
        w.request_ctx("hq"), seen.id, {"decision": CONFIRMED, "reason": "Same passport, checked", "version": "1"}
    )
    decided = w.one(RetraffickingMatch)
    assert (decided.status, decided.reason, decided.decided_by, decided.decided_in) == (
        CONFIRMED,
        "Same passport, checked",
        "hq",
        "THA",
    )
    actions = [row["action"] for row in w.audit_rows()]
    assert "retrafficking.view" in actions and "retrafficking.confirmed" in actions

    # Decided already: a second decision on the version read before is refused.
    with pytest.raises(Conflict):
        retrafficking.decide(w.request_ctx("hq"), seen.id, {"decision": DISMISSED, "reason": "x", "version": "1"})


def test_a_decision_without_a_reason_is_refused_naming_the_field_and_saves_nothing(
    w: World, same_passport: tuple[int, int]
) -> None:
    run_matching(w)
    (seen,) = retrafficking.hq_matches(w.request_ctx("hq"))
    before = w.snapshot()
    with pytest.raises(Invalid) as refused:
        retrafficking.decide(w.request_ctx("hq"), seen.id, {"decision": DISMISSED, "reason": "", "version": "1"})
    assert "reason" in refused.value.errors
    assert w.snapshot() == before


def test_a_dismissed_match_is_not_raised_again(w: World, same_passport: tuple[int, int]) -> None:
    run_matching(w)
    (seen,) = retrafficking.hq_matches(w.request_ctx("hq"))
    retrafficking.decide(
        w.request_ctx("hq"), seen.id, {"decision": DISMISSED, "reason": "A relative's passport", "version": "1"}
    )
    assert run_matching(w) == 0
    assert [m.status for m in w.all(RetraffickingMatch)] == [DISMISSED]


def test_only_hq_reviews_matches(w: World, same_passport: tuple[int, int]) -> None:
    run_matching(w)
    with pytest.raises(NotFound):
        retrafficking.hq_matches(w.request_ctx("caseworker"))
    with pytest.raises(NotFound):
        retrafficking.decide(w.request_ctx("caseworker"), 1, {"decision": CONFIRMED, "reason": "x", "version": "1"})


def flags(w: World, username: str, case_id: int, mission: str = "THA") -> list[retrafficking.Flag]:
    """The flags the case tab shows on ``case_id``, read as it reads them: in the mission's own transaction."""
    ctx = w.request_ctx(username, mission)
    with unit_of_work(ctx) as session:
        return retrafficking.flags_for_case(session, ctx, case_id)


def confirm(w: World, reason: str = "Same passport, checked") -> None:
    """HQ confirms the one match there is."""
    (seen,) = retrafficking.hq_matches(w.request_ctx("hq"))
    retrafficking.decide(
        w.request_ctx("hq"), seen.id, {"decision": CONFIRMED, "reason": reason, "version": str(seen.version)}
    )


def test_the_earlier_mission_sees_a_flag_only_once_hq_confirmed_and_while_the_later_cases_consent_allows(
    w: World, same_passport: tuple[int, int]
) -> None:
    earlier, later = same_passport
    run_matching(w)
    assert flags(w, "caseworker", earlier) == []  # no consent to share

    consent_to_share(w, later, "KHM")
    run_matching(w)  # the next run reads the consent
    assert w.one(RetraffickingMatch).shared_with_earlier
    assert flags(w, "caseworker", earlier) == []  # open: it may be two people alike, and only HQ sees it

    confirm(w)
    (flag,) = flags(w, "caseworker", earlier)
    assert (flag.later_mission, flag.status) == ("KHM", CONFIRMED)
    # The later mission's case is not flagged as an earlier one, and no other case is.
    assert flags(w, "khm.caseworker", later, "KHM") == []

    with w.rt.factory() as s, s.begin():
        for consent in s.scalars(sa.select(Consent).where(Consent.case_id == later, Consent.purpose == "HandOver")):
            consent.withdrawn_on = date(2026, 10, 1)
    run_matching(w)
    assert flags(w, "caseworker", earlier) == []


def test_a_mission_reads_only_the_matches_flagging_its_own_case_and_writes_none(
    w: World, same_passport: tuple[int, int]
) -> None:
    earlier, later = same_passport
    consent_to_share(w, later, "KHM")
    run_matching(w)
    with mission_session(w.ctx("caseworker")) as tha:  # open: HQ's alone
        assert tha.execute(sa.select(FLAGS)).all() == []
    confirm(w)
    with mission_session(w.ctx("caseworker")) as tha:  # confirmed: its flag's columns, never HQ's row
        (seen,) = tha.execute(sa.select(FLAGS)).all()
        assert (seen.earlier_mission, seen.earlier_case_id, seen.later_mission) == ("THA", earlier, "KHM")
        assert tha.scalars(sa.select(RetraffickingMatch)).all() == []
        with pytest.raises(MissionScopeViolation):
            tha.merge(w.one(RetraffickingMatch)).reason = "A mission's note"
            tha.flush()
    khm_caseworker = w.ctx("khm.caseworker", "KHM")
    with mission_session(khm_caseworker) as khm:  # the later mission: HQ's row, not its own flag
        assert retrafficking.flags_for_case(khm, khm_caseworker, later) == []


def test_an_open_match_no_longer_found_is_deleted(w: World, same_passport: tuple[int, int]) -> None:
    earlier, later = same_passport
    consent_to_share(w, later, "KHM")
    run_matching(w)
    assert w.one(RetraffickingMatch).status == OPEN
    with w.rt.factory() as s, s.begin():  # KHM corrects the passport's number: not THA's any more
        s.scalar(sa.select(ReturnPreparation).where(ReturnPreparation.case_id == later)).document_number = "SYN7654321"

    assert run_matching(w) == 0
    assert w.all(RetraffickingMatch) == []  # nothing of it was decided: nothing of it stays


def test_a_confirmed_match_stays_hqs_record_but_its_flag_goes_with_the_later_case(
    w: World, same_passport: tuple[int, int]
) -> None:
    earlier, later = same_passport
    consent_to_share(w, later, "KHM")
    run_matching(w)
    confirm(w)
    assert len(flags(w, "caseworker", earlier)) == 1
    with w.rt.factory() as s, s.begin():  # the later case is gone (deleted in KHM): the job no longer reads it
        s.delete(s.get(Case, later))

    run_matching(w)
    kept = w.one(RetraffickingMatch)
    assert (kept.status, kept.shared_with_earlier) == (CONFIRMED, False)
    assert flags(w, "caseworker", earlier) == []  # its consent can no longer be read: THA is told no more


def test_a_purged_case_takes_its_matches_with_it(w: World, same_passport: tuple[int, int]) -> None:
    earlier, later = same_passport
    consent_to_share(w, later, "KHM")
    run_matching(w)
    confirm(w)
    with w.rt.factory() as s, s.begin():  # THA's case closed eleven years ago: past the mission's retention
        case = s.get(Case, earlier)
        case.status, case.close_reason, case.closed_on = "Closed", "GoalsMet", date(2015, 1, 5)

    with acting_for(w.rt, "ctm", "THA") as ctx:  # the retention job, as the host runs it in THA
        retention.purge(ctx)
    assert w.all(Case, id=earlier) == []
    assert w.all(RetraffickingMatch) == []  # nothing of HQ's links KHM's case to the person purged
    assert run_matching(w) == 0


def test_the_job_records_its_read_in_each_missions_audit_without_a_name(w: World, same_passport) -> None:  # noqa: ANN001
    earlier, _later = same_passport
    person(w, earlier)
    run_matching(w)
    reads = [row for row in w.audit_rows() if row["action"] == "retrafficking.match.read"]
    assert sorted(row["mission_code"] for row in reads) == ["KHM", "THA"]
    assert {(row["username"], row["case_id"], tuple(row["field_groups"])) for row in reads} == {
        ("system", None, ("retrafficking",))
    }
    assert NAME not in str(reads) and "Sokha" not in str(reads)


def test_the_jobs_context_holds_its_permissions_reads_the_missions_and_writes_only_its_matches(
    w: World, same_passport: tuple[int, int]
) -> None:
    earlier, _later = same_passport
    before = w.snapshot()
    with acting_for_plugin(w.rt, "ctm", job=MATCHING) as ctx:
        assert ctx.permissions == retrafficking.JOB_PERMISSIONS
        there = ctx.in_mission("THA")
        assert there.permissions == retrafficking.JOB_PERMISSIONS and not there.can(CASE_EDIT)
        with pytest.raises(WriteRefused), unit_of_work(there) as session:  # a mission's case: read, never written
            session.get(Case, earlier).opened_on = date(2020, 1, 1)
        with pytest.raises(WriteRefused), hq_session(ctx, RETRAFFICKING_REVIEW) as hq, hq.begin():
            hq.add(Fund(currency="USD"))  # HQ's, but not what the job writes
        around_the_orm = (  # nor any way around the ORM's flush and statements
            lambda session: session.execute(sa.text("UPDATE ctm_case SET opened_on = opened_on")),
            lambda session: session.connection().execute(sa.delete(Case)),
            lambda session: session.connection().exec_driver_sql("DELETE FROM ctm_case"),
            lambda session: session.bulk_insert_mappings(Fund, [{"currency": "USD"}]),
            lambda session: session.bulk_save_objects([Fund(currency="USD")]),
        )
        for write in around_the_orm:
            with pytest.raises(WriteRefused), unit_of_work(there) as session:
                write(session)
    assert w.snapshot() == before


def test_the_job_chains_its_audit_and_the_chains_verify(w: World, same_passport, database_url: str) -> None:  # noqa: ANN001
    assert run_matching(w) == 1
    code, output = verify_cli(database_url)
    assert code == 0, output
    assert "THA: intact" in output and "KHM: intact" in output


def test_a_misspelled_name_in_another_mission_is_compared_within_its_birth_date_and_citizenship(w: World) -> None:
    earlier, later = w.open(), later_case(w)
    person(w, earlier, "Sokha Synthetic", date(1998, 4, 3))
    person(w, later, "Sokhaa Synthetik", date(1998, 4, 3))
    assert run_matching(w) == 1
    assert {w.one(RetraffickingMatch).earlier_case_id, w.one(RetraffickingMatch).later_case_id} == {earlier, later}

    # A thousand people born the same day, of a hundred citizenships, ten of each: the pairs of a citizenship
    # alone are compared (45 each), not every pair of the day (499,500).
    born = date(1990, 6, 15)
    people = [
        Identity("THA", n, f"THA-{n}", born, frozenset(), f"person {n}", born, frozenset({f"C{n % 100:02d}"}), False)
        for n in range(1000)
    ]
    assert sum(1 for _pair in retrafficking._candidates(people)) == 100 * 45


# -- the pages ---------------------------------------------------------------------------------------------------

MATCHES = "/m/THA/plugins/ctm/retrafficking"


def test_hq_sees_the_match_explained_without_the_number_and_dismisses_it_with_a_reason(  # noqa: ANN001
    w: World, same_passport: tuple[int, int], login
) -> None:
    from page_parts import error_on, text

    run_matching(w)
    hq = login("hq")
    page = text(hq.get(MATCHES))
    found = w.one(RetraffickingMatch)
    assert f'data-match="{found.id}"' in page and "same travel document number" in page
    assert PASSPORT not in page and "1234567" not in page
    assert text(login("hq").get("/m/THA/plugins/ctm/retrafficking?status=open")).count("data-match=") == 1

    refused = hq.post(f"{MATCHES}/{found.id}/decision", {"decision": DISMISSED, "reason": "", "version": "1"})
    assert refused.status_code == 422 and error_on(text(refused), f"decision-{found.id}", "reason")
    assert w.one(RetraffickingMatch).status == OPEN  # nothing half-saved
    done = hq.post(
        f"{MATCHES}/{found.id}/decision", {"decision": DISMISSED, "reason": "A relative's passport", "version": "1"}
    )
    assert done.status_code == 303
    assert 'data-status="dismissed"' in text(hq.get(MATCHES))


def test_the_page_is_in_french_and_spanish_too(w: World, same_passport: tuple[int, int], login) -> None:  # noqa: ANN001
    from page_parts import text

    earlier, later = same_passport
    person(w, earlier)
    person(w, later, "Synthetic Sokhar")
    with w.rt.factory() as s, s.begin():  # a fuzzy match: no document in common
        for prep in s.scalars(sa.select(ReturnPreparation)):
            s.delete(prep)
    run_matching(w)
    hq = login("hq")
    french = text(hq.get(MATCHES, headers={"Accept-Language": "fr"}))
    assert "nom similaire à 0,97, même date de naissance, même nationalité" in french


def test_the_earlier_cases_tab_shows_the_flag_to_its_caseworkers(w: World, same_passport: tuple[int, int], login):  # noqa: ANN001
    from page_parts import text

    earlier, later = same_passport
    consent_to_share(w, later, "KHM")
    run_matching(w)
    tab = text(login("caseworker").get("/m/THA/plugins/ctm/records/beneficiary/BEN-1000001/case"))
    assert 'data-flag="retrafficking"' not in tab  # open: HQ has not confirmed it
    assert "Once you confirm it: the person consented" in text(login("hq").get(MATCHES))
    confirm(w)
    tab = text(login("caseworker").get("/m/THA/plugins/ctm/records/beneficiary/BEN-1000001/case"))
    assert 'data-flag="retrafficking"' in tab and "mission KHM" in tab
    assert "retrafficking.flag.view" in [row["action"] for row in w.audit_rows()]
