"""Research exports hold for people, not rows (issue 14's privacy review): one row per person (hand-overs and
HQ's confirmed re-trafficking matches), the researcher's report banded below k, exports that overlap each other
flagged to HQ and refused when two files side by side would single people out, the requester by the host's
stable user id, HQ's scope on its list and its decisions, and HTCDS's rare codes left out."""

from __future__ import annotations

from collections import Counter
from datetime import date
from decimal import Decimal
from itertools import count

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_handover import handed_over
from test_research_exports import form, rows_of
from world import World

from ctm_plugin.domain.assistance import Consent
from ctm_plugin.domain.case import Case, PersonProfile, VictimContext
from ctm_plugin.domain.handover import Handover
from ctm_plugin.domain.process import TraffickingEvent
from ctm_plugin.domain.research import APPROVED, DECLINED, ReleasedCase, ResearchExport
from ctm_plugin.domain.retrafficking import CONFIRMED, OPEN, Linked, RetraffickingMatch
from ctm_plugin.research import ctdc, small_cell_k
from ctm_plugin.services import research_exports as exports
from ctm_plugin.services.base import NotFound
from mimosa_host.accounts import add_user, grant
from mimosa_host.db import transaction
from mimosa_host.models import RoleGrant, User

K = small_cell_k()
YEAR = 2026
NUMBERS = count()


def exportable(s: sa.orm.Session, mission: str, case_id: int, year: int = YEAR) -> None:
    """The case as one person of a single profile (a woman of 30 from Cambodia exploited in Thailand, identified
    in ``year``) with the Research consent in force: every such case is one class of the export."""
    case = s.get(Case, case_id)
    case.opened_on = date(year, 3, 1)
    profile = s.scalar(sa.select(PersonProfile).where(PersonProfile.case_id == case_id))
    profile.gender, profile.citizenships, profile.birth_date = "Feminine", ["KHM"], date(year - 30, 1, 1)
    victim = s.scalar(sa.select(VictimContext).where(VictimContext.case_id == case_id))
    victim.trafficking_status, victim.exploitation_types = "ActualVictimOfTrafficking", ["ForcedLabour"]
    s.add(TraffickingEvent(mission_code=mission, case_id=case_id, sequence=1, type="Exploitation", country="THA"))
    s.add(
        Consent(
            mission_code=mission,
            case_id=case_id,
            purpose="Research",
            items=["InformedOfResearchUse"],
            given_on=date(year, 3, 1),
            method="Written",
            recorded_by="caseworker",
        )
    )


def people(w: World, mission: str, n: int, year: int = YEAR) -> list[int]:
    """``n`` more cases of the profile of :func:`exportable` in ``mission``."""
    ids = []
    with w.rt.factory() as s, s.begin():
        for i in (next(NUMBERS) for _ in range(n)):
            case = Case(
                mission_code=mission,
                case_number=f"{mission}-P-{i}",
                beneficiary_id=f"BEN-P{i:06d}",
                owner="caseworker",
                opened_on=date(year, 3, 1),
                updated_by="caseworker",
            )
            s.add(case)
            s.flush()
            s.add(PersonProfile(mission_code=mission, case_id=case.id))
            s.add(VictimContext(mission_code=mission, case_id=case.id))
            s.flush()
            exportable(s, mission, case.id, year)
            ids.append(case.id)
    return ids


def a_handover(w: World) -> tuple[int, int]:
    """A THA case handed over to KHM, both of the export's profile: (THA's case, KHM's)."""
    sent = handed_over(w)
    received = w.one(Handover, case_id=sent).receiving_case_id
    with w.rt.factory() as s, s.begin():
        exportable(s, "THA", sent)
        exportable(s, "KHM", received)
    return sent, received


def confirmed(w: World, earlier: tuple[str, int], later: tuple[str, int], status: str = CONFIRMED) -> None:
    with w.rt.factory() as s, s.begin():
        s.add(
            RetraffickingMatch(
                earlier_mission=earlier[0],
                earlier_case_id=earlier[1],
                earlier_case_number="E",
                earlier_opened_on=date(YEAR, 3, 1),
                later_mission=later[0],
                later_case_id=later[1],
                later_case_number="L",
                later_opened_on=date(YEAR, 3, 1),
                evidence="document",
                score=Decimal(1),
                explanation="same_document",
                status=status,
            )
        )


def years(**changes: object) -> dict[str, object]:
    return form(year_from=str(YEAR), year_to=str(YEAR), **changes)


# -- 1. one row per person ----------------------------------------------------------------------------------------


def test_k_rows_of_one_class_are_k_people_not_a_hand_over_counted_twice(w: World) -> None:
    a_handover(w)
    people(w, "THA", K - 2)  # K - 1 people in THA, one of whom KHM received: K rows, K - 1 people
    export_id = exports.request_export(w.request_ctx("researcher"), years())
    with pytest.raises(exports.CannotReachK):
        exports.decide(w.request_ctx("hq"), "THA", export_id, {"decision": "approve"})
    people(w, "THA", 1)  # now K people
    assert exports.decide(w.request_ctx("hq"), "THA", export_id, {"decision": "approve"}) == APPROVED
    report = w.one(ResearchExport, id=export_id).report
    assert (report["rows_in"], report["rows_out"], report["same_person"]) == (K, K, 1)
    _name, text = exports.download(w.request_ctx("researcher"), export_id)
    assert len(rows_of(text)) == K


def test_a_confirmed_re_trafficking_pair_is_one_row_an_open_match_is_not_yet(w: World) -> None:
    first, again, other = people(w, "THA", 3)
    more = people(w, "KHM", K - 2)
    confirmed(w, ("THA", first), ("KHM", more[0]))
    confirmed(w, ("THA", again), ("THA", other), status=OPEN)
    export_id = exports.request_export(w.request_ctx("researcher"), years())
    # K + 1 cases, K people: the open match joining two more would leave K - 1, which cannot reach k
    assert exports.decide(w.request_ctx("hq"), "THA", export_id, {"decision": "approve"}) == APPROVED
    report = w.one(ResearchExport, id=export_id).report
    assert (report["rows_in"], report["rows_out"], report["same_person"]) == (K, K, 1)


def test_two_cases_confirmed_as_one_person_through_a_mission_outside_the_export_are_one_row(w: World) -> None:
    first, again, *_ = people(w, "THA", K)
    [between] = people(w, "KHM", 1)  # the same person, found in KHM in between: KHM is not in the export
    confirmed(w, ("THA", first), ("KHM", between))
    confirmed(w, ("KHM", between), ("THA", again))
    export_id = exports.request_export(w.request_ctx("researcher"), years(missions=["THA"]))
    with pytest.raises(exports.CannotReachK):  # K cases of THA, K - 1 people
        exports.decide(w.request_ctx("hq"), "THA", export_id, {"decision": "approve"})
    people(w, "THA", 1)
    assert exports.decide(w.request_ctx("hq"), "THA", export_id, {"decision": "approve"}) == APPROVED
    report = w.one(ResearchExport, id=export_id).report
    assert (report["rows_in"], report["rows_out"], report["same_person"]) == (K, K, 1)


def test_the_person_s_first_identification_is_the_row_kept() -> None:
    def case(mission: str, case_id: int, day: int, received: bool = False) -> exports.ReadCase:
        facts = ctdc.CaseFacts(date(YEAR, 3, day), None, "Feminine", ("KHM",), "THA")
        return exports.ReadCase((mission, case_id), received, facts)

    sent, received = case("THA", 1, 5), case("KHM", 7, 5, received=True)
    earlier, later = case("KHM", 2, 1), case("THA", 3, 9)
    alone = case("THA", 4, 2)
    linked = Linked()
    linked.join(sent.ref, received.ref)
    linked.join(earlier.ref, later.ref)
    kept, left_out = exports.one_per_person([received, sent, later, earlier, alone], linked)
    assert [c.ref for c in kept] == [("KHM", 2), ("THA", 1), ("THA", 4)] and left_out == 2
    # the sending mission's case not in the export (another mission, no consent, other years): the received one
    kept, left_out = exports.one_per_person([received, later], linked)
    assert [c.ref for c in kept] == [("KHM", 7), ("THA", 3)] and left_out == 0


# -- 2. the researcher reads no count below k ---------------------------------------------------------------------


def test_the_researcher_reads_counts_below_k_as_less_than_k_hq_reads_them_exact(w: World, login) -> None:  # noqa: ANN001
    a_handover(w)
    people(w, "THA", 6 * K)
    odd = people(w, "THA", 3)  # three of another citizenship: within the 5% suppressed rather than generalised
    with w.rt.factory() as s, s.begin():
        for case_id in odd:
            s.scalar(sa.select(PersonProfile).where(PersonProfile.case_id == case_id)).citizenships = ["PER"]
    export_id = exports.request_export(w.request_ctx("researcher"), years())
    exports.decide(w.request_ctx("hq"), "THA", export_id, {"decision": "approve"})
    stored = w.one(ResearchExport, id=export_id).report
    assert (stored["rows_suppressed"], stored["same_person"]) == (3, 1)
    rows_out = stored["rows_out"]
    approvals = login("hq").get("/m/THA/plugins/ctm/research/approvals").get_data(as_text=True)
    assert 'data-value="rows-suppressed">3<' in approvals and f'data-value="rows-in">{rows_out + 3}<' in approvals

    # before the download, the researcher reads what will be generalised and no count: the file's own, made
    # at the download, would differ from the approval's by the consents withdrawn in between
    [mine] = exports.my_exports(w.request_ctx("researcher"))
    assert set(mine.report) == {"k", "levels"}
    researcher = login("researcher")
    page = researcher.get("/m/THA/plugins/ctm/research/exports").get_data(as_text=True)
    assert "data-report" in page and 'data-value="rows-out"' not in page and 'data-value="rows-in"' not in page

    exports.download(w.request_ctx("researcher"), export_id)
    [mine] = exports.my_exports(w.request_ctx("researcher"))
    assert mine.report["rows_suppressed"] == mine.report["same_person"] == f"<{K}"
    assert mine.report["rows_in"] == f"{rows_out + 1}–{rows_out + K - 1}"
    page = researcher.get("/m/THA/plugins/ctm/research/exports").get_data(as_text=True)
    assert f'data-value="rows-suppressed">&lt;{K}<' in page and f'data-value="same-person">&lt;{K}<' in page
    assert f'data-value="rows-in">{rows_out + 3}<' not in page


# -- 3. overlapping exports ---------------------------------------------------------------------------------------


def test_hq_sees_the_released_exports_a_request_overlaps_and_one_a_few_people_apart_is_refused(w: World) -> None:
    people(w, "THA", 3 * K, year=YEAR - 1)
    people(w, "THA", 3 * K, year=YEAR - 2)
    earlier = exports.request_export(w.request_ctx("researcher"), form(year_from=str(YEAR - 2), year_to=str(YEAR - 1)))
    assert exports.decide(w.request_ctx("hq"), "THA", earlier, {"decision": "approve"}) == APPROVED
    exports.download(w.request_ctx("researcher"), earlier)
    people(w, "THA", 4, year=YEAR)  # four people of the next year, too many to suppress: their year generalised
    wider = exports.request_export(w.request_ctx("researcher"), form(year_from=str(YEAR - 2), year_to=str(YEAR)))
    apart = exports.request_export(w.request_ctx("researcher"), form(year_from="2010", year_to="2012"))

    listed = {h.export.id: h for h in exports.hq_requests(w.request_ctx("hq"))}
    assert [o.id for o in listed[wider].overlapping] == [earlier]
    assert listed[apart].overlapping == ()
    with pytest.raises(exports.TooCloseToEarlier) as refused:  # the wider file less the earlier: four people
        exports.decide(w.request_ctx("hq"), "THA", wider, {"decision": "approve"})
    assert "fewer than k people" in refused.value.errors["decision"][0]
    assert w.one(ResearchExport, id=wider).status == "requested"

    people(w, "THA", K, year=YEAR)  # K + 4 people apart now
    assert exports.decide(w.request_ctx("hq"), "THA", wider, {"decision": "approve"}) == APPROVED


def withdraw_research_consent(w: World, case_ids: list[int]) -> None:
    with w.rt.factory() as s, s.begin():
        for consent in s.scalars(sa.select(Consent).where(Consent.case_id.in_(case_ids))):
            consent.withdrawn_on = date(YEAR, 6, 1)


def test_a_new_export_is_set_beside_the_file_released_not_the_earlier_export_made_again(w: World) -> None:
    some = people(w, "THA", 3 * K)
    earlier = exports.request_export(w.request_ctx("researcher"), years(missions=["THA"]))
    exports.decide(w.request_ctx("hq"), "THA", earlier, {"decision": "approve"})
    exports.download(w.request_ctx("researcher"), earlier)
    stored = w.all(ReleasedCase, export_id=earlier)
    assert len({r.person for r in stored}) == len(stored) == 3 * K
    assert not {str(case_id) for case_id in some} & {r.case_index for r in stored}  # keyed indexes, not ids

    withdraw_research_consent(w, some[:2])  # two people left since: the same export made again has 3K - 2
    again = exports.request_export(w.request_ctx("researcher"), years(missions=["THA"]))
    with pytest.raises(exports.TooCloseToEarlier):  # beside the file released, it tells who withdrew
        exports.decide(w.request_ctx("hq"), "THA", again, {"decision": "approve"})

    with w.rt.factory() as s, s.begin():  # the released people go with their request
        s.delete(s.get(ResearchExport, earlier))
    assert w.all(ReleasedCase, export_id=earlier) == []


def citizens_of(w: World, case_ids: list[int], country: str) -> None:
    with w.rt.factory() as s, s.begin():
        for case_id in case_ids:
            s.scalar(sa.select(PersonProfile).where(PersonProfile.case_id == case_id)).citizenships = [country]


def test_an_export_overlapping_a_released_one_is_generalised_at_least_as_coarsely(w: World) -> None:
    people(w, "THA", K)
    citizens_of(w, people(w, "THA", K - 1), "VNM")  # too few Vietnamese citizens: citizenship as sub-region
    earlier = exports.request_export(w.request_ctx("researcher"), years(missions=["THA"]))
    exports.decide(w.request_ctx("hq"), "THA", earlier, {"decision": "approve"})
    exports.download(w.request_ctx("researcher"), earlier)

    def citizenship(export_id: int) -> str:
        levels = w.one(ResearchExport, id=export_id).report["levels"]
        return next(lv["level_name"] for lv in levels if lv["name"] == "citizenship")

    assert citizenship(earlier) == "UN M49 sub-region"
    citizens_of(w, people(w, "THA", K), "VNM")  # enough of them now to keep the country, alone
    again = exports.request_export(w.request_ctx("researcher"), years(missions=["THA"]))
    assert exports.decide(w.request_ctx("hq"), "THA", again, {"decision": "approve"}) == APPROVED
    # set beside the earlier file, a file of countries would tell the Vietnamese among its sub-region apart
    assert citizenship(again) == "UN M49 sub-region"

    with w.rt.factory() as s, s.begin():  # with neither released, the same export keeps the country
        for export_id in (earlier, again):
            s.delete(s.get(ResearchExport, export_id))
    alone = exports.request_export(w.request_ctx("researcher"), years(missions=["THA"]))
    exports.decide(w.request_ctx("hq"), "THA", alone, {"decision": "approve"})
    assert citizenship(alone) == "country"


def test_the_approvals_page_flags_the_overlap_and_says_why_it_refuses(w: World, login) -> None:  # noqa: ANN001
    people(w, "THA", 3 * K)
    earlier = exports.request_export(w.request_ctx("researcher"), form(year_from=str(YEAR - 2), year_to=str(YEAR)))
    exports.decide(w.request_ctx("hq"), "THA", earlier, {"decision": "approve"})
    people(w, "THA", 2, year=YEAR - 3)
    wider = exports.request_export(w.request_ctx("researcher"), form(year_from=str(YEAR - 3), year_to=str(YEAR)))
    hq = login("hq")
    page = hq.get("/m/THA/plugins/ctm/research/approvals").get_data(as_text=True)
    assert f'data-overlap="THA-{earlier}"' in page
    refused = hq.post(f"/m/THA/plugins/ctm/research/approvals/THA/{wider}/decision", {"decision": "approve"})
    assert refused.status_code == 422 and "fewer than k people" in refused.get_data(as_text=True)


# -- 4. the requester by the host's stable id -------------------------------------------------------------------


def rename(w: World, old: str, new: str) -> None:
    with transaction(w.rt.factory) as s:
        s.scalar(sa.select(User).where(User.username == old)).username = new


def test_a_renamed_requester_is_still_the_requester_and_never_their_own_approver(w: World) -> None:
    people(w, "THA", 2 * K)
    with transaction(w.rt.factory) as s:
        grant(s, s.scalar(sa.select(User).where(User.username == "hq")), "THA", "ctm.researcher")
    export_id = exports.request_export(w.request_ctx("hq"), years(missions=["THA"]))
    assert w.one(ResearchExport, id=export_id).requested_by_id is not None
    rename(w, "hq", "hq.renamed")
    with pytest.raises(exports.OwnRequest):
        exports.decide(w.request_ctx("hq.renamed"), "THA", export_id, {"decision": "approve"})
    assert [m.export.id for m in exports.my_exports(w.request_ctx("hq.renamed"))] == [export_id]
    listed = {h.export.id: h for h in exports.hq_requests(w.request_ctx("hq.renamed"))}
    assert listed[export_id].own

    # another user given the old name is not the requester
    with transaction(w.rt.factory) as s:
        newcomer = add_user(s, "hq", "Another HQ", "x")
        grant(s, newcomer, "THA", "ctm.hq_programme_manager")
        grant(s, newcomer, "KHM", "ctm.hq_programme_manager")
    assert exports.decide(w.request_ctx("hq"), "THA", export_id, {"decision": "decline", "reason": "No."}) == DECLINED


def test_a_request_from_before_requesters_were_known_by_id_is_never_downloaded(w: World, login) -> None:  # noqa: ANN001
    people(w, "THA", 2 * K)
    export_id = exports.request_export(w.request_ctx("researcher"), years(missions=["THA"]))
    exports.decide(w.request_ctx("hq"), "THA", export_id, {"decision": "approve"})
    with w.rt.factory() as s, s.begin():  # as ctm0026 left a request made before it: a username only
        s.get(ResearchExport, export_id).requested_by_id = None
    with pytest.raises(exports.RequestAgain):
        exports.download(w.request_ctx("researcher"), export_id)
    researcher = login("researcher")
    page = researcher.get("/m/THA/plugins/ctm/research/exports").get_data(as_text=True)
    assert 'data-problem="request-again"' in page and "Request a new export." in page
    assert f"/research/exports/{export_id}/download" not in page
    refused = researcher.post(f"/m/THA/plugins/ctm/research/exports/{export_id}/download", {})
    assert refused.status_code == 409 and "Request a new export." in refused.get_data(as_text=True)
    assert w.one(ResearchExport, id=export_id).status == APPROVED


# -- 5. HQ's scope ------------------------------------------------------------------------------------------------


def test_hq_neither_lists_nor_decides_a_request_of_a_mission_outside_its_approval_scope(w: World) -> None:
    export_id = exports.request_export(w.request_ctx("researcher"), form())  # THA and KHM
    only_tha = exports.request_export(w.request_ctx("researcher"), form(missions=["THA"]))
    with transaction(w.rt.factory) as s:
        hq = s.scalar(sa.select(User).where(User.username == "hq"))
        for grant_row in s.scalars(
            sa.select(RoleGrant).where(RoleGrant.user_id == hq.id, RoleGrant.mission_code == "KHM")
        ):
            s.delete(grant_row)
    assert [h.export.id for h in exports.hq_requests(w.request_ctx("hq"))] == [only_tha]
    for decision in ({"decision": "decline", "reason": "Too broad."}, {"decision": "approve"}):
        with pytest.raises(NotFound):
            exports.decide(w.request_ctx("hq"), "THA", export_id, decision)
    assert w.one(ResearchExport, id=export_id).status == "requested"


# -- 6. HTCDS's rare codes -----------------------------------------------------------------------------------------

CONTROLS = ("DebtBondage", "WithholdsDocuments", "Threats", "PhysicalAbuse")
RARE = "PsychoactiveSubstances"
INDUSTRIES = ("A011", "F_Construction", "H49")


def facts_of(controls: tuple[str, ...], industry: str) -> ctdc.CaseFacts:
    return ctdc.CaseFacts(
        date(YEAR, 3, 1),
        date(YEAR - 30, 1, 1),
        "Feminine",
        ("KHM",),
        "THA",
        trafficking_status="ActualVictimOfTrafficking",
        control_methods=controls,
        exploitation_types=("ForcedLabour",),
        labour_industry=industry,
    )


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    common=st.lists(
        st.tuples(st.lists(st.sampled_from(CONTROLS), max_size=3, unique=True).map(tuple), st.sampled_from(INDUSTRIES)),
        min_size=K,
        max_size=6 * K,
    ),
    rare=st.integers(min_value=1, max_value=K - 1),
    rare_industry=st.sampled_from(("C10", "B_MiningAndQuarrying")),
)
def test_an_htcds_code_fewer_than_k_people_hold_never_reaches_the_file(
    common: list[tuple[tuple[str, ...], str]], rare: int, rare_industry: str
) -> None:
    facts = [facts_of(controls, industry) for controls, industry in common]
    facts += [facts_of(("DebtBondage", RARE), rare_industry)] * rare  # a rare means of control and industry
    export = exports.build("HTCDS", facts, K)
    columns = list(export.columns)
    held: Counter[tuple[str, str]] = Counter()
    for row in export.rows:
        for column in ctdc.htcds_codes(facts[0]):
            for code in filter(None, row[columns.index(column)].split(";")):
                held[column, code] += 1
    assert all(n >= K for n in held.values()), held
    assert ("vic_MethodsOfControl", RARE) not in held
    assert not {code for column, code in held if column == "vic_ForcedLabourIndustry"} & {
        "C_Manufacturing",
        "B_MiningAndQuarrying",
    }
    classes = Counter(tuple(row[columns.index(q)] for q in ctdc.QUASI_COLUMNS["HTCDS"]) for row in export.rows)
    assert min(classes.values()) >= K


def test_rare_codes_of_a_multi_select_become_other_once_k_people_hold_them() -> None:
    facts = [facts_of(("DebtBondage",), "A011")] * K + [facts_of(("DebtBondage", RARE), "A011")] * (K - 1)
    facts += [facts_of(("DebtBondage", "Threats"), "A011")]  # with the rare ones: K people hold "Other"
    export = exports.build("HTCDS", facts, K)
    column = list(export.columns).index("vic_MethodsOfControl")
    assert Counter(row[column] for row in export.rows) == {"DebtBondage": K, "DebtBondage;Other": K}
