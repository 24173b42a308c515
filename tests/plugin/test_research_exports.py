"""Research exports (services/research_exports.py): a researcher requests, HQ approves, the requester downloads
once; k-anonymity holds on every exported row; only consenting cases; nothing identifying ever leaves."""

from __future__ import annotations

import csv
import io
import random
import threading
from collections import Counter
from datetime import date
from typing import Any

import pytest
import sqlalchemy as sa
from world import World

from ctm_plugin.domain.assistance import Consent
from ctm_plugin.domain.case import Case, PersonProfile, VictimContext
from ctm_plugin.domain.process import TraffickingEvent
from ctm_plugin.domain.research import APPROVED, DECLINED, DOWNLOADED, REQUESTED, ResearchExport
from ctm_plugin.research import ctdc, small_cell_k
from ctm_plugin.research.kanonymity import AGE_BANDS
from ctm_plugin.services import research_exports as exports
from ctm_plugin.services.base import Conflict, Invalid, NotFound
from mimosa_host.accounts import grant
from mimosa_host.db import transaction
from mimosa_host.models import User

K = small_cell_k()
NAME_MARKER = "Oldrow-Name-7781"


def seed_cases(w: World, mission: str, n: int, *, consent: bool = True, seed: int = 7, year: int = 2024) -> None:
    """``n`` victims' cases in ``mission`` in a few common profiles and some rare ones, with sealed notes and
    free text that an export must never carry."""
    rng = random.Random(seed)
    with w.rt.factory() as s, s.begin():
        for i in range(n):
            rare = i % 10 == 9
            case = Case(
                mission_code=mission,
                case_number=f"{mission}-R-{seed}-{i}",
                beneficiary_id=f"BEN-R{seed}{i:06d}",
                owner="caseworker",
                opened_on=date(year - (i % 2), 3, 1),
                updated_by="caseworker",
                status_reason=f"{NAME_MARKER} status",
            )
            s.add(case)
            s.flush()
            birth = date(1990 + (rng.randrange(40) if rare else i % 2), 5, 5)
            s.add(
                PersonProfile(
                    mission_code=mission,
                    case_id=case.id,
                    gender="Feminine" if i % 3 else "Masculine",
                    citizenships=[rng.choice(["FJI", "PER", "ISL"]) if rare else "KHM"],
                    birth_date=birth,
                )
            )
            s.add(
                VictimContext(
                    mission_code=mission,
                    case_id=case.id,
                    trafficking_status="ActualVictimOfTrafficking",
                    control_methods=["DebtBondage", "WithholdsDocuments"],
                    exploitation_types=["ForcedLabour"],
                    labour_industry="A011",
                    recruiter_relationship="Friend",
                )
            )
            s.add(
                TraffickingEvent(
                    mission_code=mission,
                    case_id=case.id,
                    sequence=1,
                    type="Exploitation",
                    country="THA",
                    locality=f"{NAME_MARKER} village",
                    notes=f"{NAME_MARKER} notes",
                )
            )
            if consent:
                s.add(
                    Consent(
                        mission_code=mission,
                        case_id=case.id,
                        purpose="Research",
                        items=["InformedOfResearchUse"],
                        given_on=date(2024, 3, 2),
                        method="Written",
                        recorded_by="caseworker",
                    )
                )


def form(**changes: Any) -> dict[str, Any]:
    return {
        "missions": ["THA", "KHM"],
        "layout": "CTDC",
        "year_from": "2023",
        "year_to": "2024",
        "purpose": "Recruitment patterns of forced labour in South-East Asia.",
        **changes,
    }


def request(w: World, **changes: Any) -> int:
    return exports.request_export(w.request_ctx("researcher"), form(**changes))


def approve(w: World, export_id: int, username: str = "hq") -> str:
    return exports.decide(w.request_ctx(username), "THA", export_id, {"decision": "approve"})


def rows_of(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


QUASI = ("ageBroad", "gender", "citizenship", "CountryOfExploitation", "yearOfRegistration")


def test_requested_approved_downloaded_once_with_every_combination_at_least_k_times(w: World) -> None:
    seed_cases(w, "THA", 300)
    seed_cases(w, "KHM", 120, seed=8)
    export_id = request(w)
    assert w.one(ResearchExport, id=export_id).status == REQUESTED
    assert approve(w, export_id) == APPROVED
    approved = w.one(ResearchExport, id=export_id)
    assert approved.decided_by == "hq" and approved.report["k"] == K

    name, text = exports.download(w.request_ctx("researcher"), export_id)
    assert name.endswith(".csv")
    rows = rows_of(text)
    assert list(rows[0]) == list(ctdc.CTDC_COLUMNS)
    combinations = Counter(tuple(row[q] for q in QUASI) for row in rows)
    assert min(combinations.values()) >= K
    report = w.one(ResearchExport, id=export_id).report
    assert report["rows_out"] == len(rows) and report["rows_in"] == 420
    assert report["rows_in"] - report["rows_out"] == report["rows_suppressed"]
    assert {row["isForcedLabour"] for row in rows} == {"1"}
    assert {row["typeOfLabourAgriculture"] for row in rows} == {"1"}
    assert {row["ageBroad"] for row in rows} <= {*AGE_BANDS, "0—17", "18—29", "30—47", "Minor", "Adult", ""}

    with pytest.raises(exports.AlreadyDownloaded):
        exports.download(w.request_ctx("researcher"), export_id)
    assert w.one(ResearchExport, id=export_id).status == DOWNLOADED
    actions = Counter(row["action"] for row in w.audit_rows())
    assert actions["research.export.request"] == 1
    assert actions["research.export.approved"] == 1
    assert actions["research.export.download"] == 1
    assert actions["research.export.read"] == 4  # each mission, at the approval and at the download
    exports.hq_requests(w.request_ctx("hq"))
    viewed = [row["mission_code"] for row in w.audit_rows() if row["action"] == "research.exports.view"]
    assert sorted(viewed) == ["KHM", "THA"]  # HQ's view of the requests, in each mission of its scope


def test_no_sealed_or_free_text_field_reaches_an_export(w: World) -> None:
    seed_cases(w, "THA", 200)
    for layout in ("CTDC", "HTCDS"):
        export_id = request(w, layout=layout, missions=["THA"])
        approve(w, export_id)
        _name, text = exports.download(w.request_ctx("researcher"), export_id)
        assert NAME_MARKER not in text and "BEN-R" not in text and "THA-R-" not in text
        assert "1990-" not in text and "1991-" not in text  # no birth date
    # the export reads codes only: no sealed column, no free-text column, no identity field
    from ctm_plugin.domain.models import Base

    for table, columns in ctdc.FACT_FIELDS.items():
        for column in columns:
            col = Base.metadata.tables[table].c[column]
            assert not col.name.endswith("_sealed") and column not in ("notes", "locality", "alias", "place")
            assert not isinstance(col.type, sa.Text) and getattr(col.type, "length", None) in (
                None,
                2,
                3,
                10,
                20,
                40,
                60,
            )


def test_only_cases_with_the_research_consent_in_force_are_exported(w: World) -> None:
    seed_cases(w, "THA", 100, consent=False, seed=3)
    export_id = request(w, missions=["THA"])
    with pytest.raises(exports.CannotReachK) as cannot:
        approve(w, export_id)
    assert "cannot be reached" in cannot.value.errors["decision"][0]
    assert w.one(ResearchExport, id=export_id).status == REQUESTED  # nothing produced, nothing decided
    seed_cases(w, "THA", 100, seed=4)
    approve(w, export_id)
    _name, text = exports.download(w.request_ctx("researcher"), export_id)
    assert w.one(ResearchExport, id=export_id).report["rows_in"] == 100


def test_the_requester_never_approves_their_own_request_even_holding_both(w: World) -> None:
    with transaction(w.rt.factory) as s:
        hq = s.scalar(sa.select(User).where(User.username == "hq"))
        grant(s, hq, "THA", "ctm.researcher")
    export_id = exports.request_export(w.request_ctx("hq"), form(missions=["THA"]))
    with pytest.raises(exports.OwnRequest):
        approve(w, export_id)
    assert w.one(ResearchExport, id=export_id).status == REQUESTED


def test_declined_with_a_reason_and_never_downloadable(w: World) -> None:
    export_id = request(w)
    with pytest.raises(Invalid) as refused:
        exports.decide(w.request_ctx("hq"), "THA", export_id, {"decision": "decline"})
    assert "reason" in refused.value.errors
    assert (
        exports.decide(w.request_ctx("hq"), "THA", export_id, {"decision": "decline", "reason": "Too broad."})
        == DECLINED
    )
    with pytest.raises(exports.NotApproved):
        exports.download(w.request_ctx("researcher"), export_id)
    with pytest.raises(exports.AlreadyDecided):
        approve(w, export_id)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"missions": ["MDA", "XXX"]}, "missions"),
        ({"missions": []}, "missions"),
        ({"layout": "SPSS"}, "layout"),
        ({"year_from": "1899"}, "year_from"),
        ({"year_to": "2022"}, "year_to"),
        ({"purpose": ""}, "purpose"),
    ],
)
def test_a_bad_request_names_the_field_and_saves_nothing(w: World, changes: dict[str, Any], field: str) -> None:
    before = w.snapshot()
    with pytest.raises(Invalid) as refused:
        request(w, **changes)
    assert field in refused.value.errors
    assert w.snapshot() == before


def test_users_without_the_permissions_see_nothing(w: World) -> None:
    export_id = request(w)
    with pytest.raises(NotFound):
        exports.request_export(w.request_ctx("caseworker"), form())
    with pytest.raises(NotFound):
        approve(w, export_id, username="caseworker")
    with pytest.raises(NotFound):
        exports.hq_requests(w.request_ctx("researcher"))
    with pytest.raises(NotFound):
        exports.download(w.request_ctx("hq"), export_id)


def test_two_downloads_at_once_cannot_both_succeed(w: World) -> None:
    seed_cases(w, "THA", 120)
    export_id = request(w, missions=["THA"])
    approve(w, export_id)
    outcomes: list[str] = []
    start = threading.Barrier(2)

    def download() -> None:
        ctx = w.request_ctx("researcher")
        start.wait()
        try:
            exports.download(ctx, export_id)
            outcomes.append("file")
        except (Conflict, sa.exc.OperationalError):
            outcomes.append("refused")

    threads = [threading.Thread(target=download) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["file", "refused"]


def test_a_consent_withdrawn_after_the_approval_is_honoured_at_the_download(w: World) -> None:
    seed_cases(w, "THA", K, seed=5)  # exactly k cases, all alike but for the rare tenth
    export_id = request(w, missions=["THA"], year_from="2023")
    approve(w, export_id)
    with w.rt.factory() as s, s.begin():
        consents = list(s.scalars(sa.select(Consent).where(Consent.mission_code == "THA")))
        for consent in consents[: K // 2]:
            consent.withdrawn_on = date(2026, 1, 2)
    with pytest.raises(exports.CannotReachK):
        exports.download(w.request_ctx("researcher"), export_id)
    assert w.one(ResearchExport, id=export_id).status == APPROVED  # nothing produced, still downloadable later


def test_the_country_of_exploitation_is_the_first_exploitation_in_the_persons_story(w: World) -> None:
    seed_cases(w, "THA", 3 * K, seed=6)  # each with an exploitation in Thailand (sequence 1)
    with w.rt.factory() as s, s.begin():
        for case_id in s.scalars(sa.select(Case.id).where(Case.mission_code == "THA")):
            s.add(TraffickingEvent(mission_code="THA", case_id=case_id, sequence=0, type="Exploitation", country="USA"))
            s.add(TraffickingEvent(mission_code="THA", case_id=case_id, sequence=-1, type="Transit", country="MEX"))
    export_id = request(w, missions=["THA"])
    approve(w, export_id)
    _name, text = exports.download(w.request_ctx("researcher"), export_id)
    assert {row["CountryOfExploitation"] for row in rows_of(text)} <= {"USA", "021", "019"}  # the US, generalised
