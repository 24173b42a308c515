"""Intelligence: the perpetrators, places and routes linking cases within a mission and across an analyst's
missions, the network, and the law-enforcement referral package only with the consent in force. SQLite, and
PostgreSQL when configured."""

from __future__ import annotations

import csv
import io
import logging

import pytest
import sqlalchemy as sa
from page_parts import text
from world import World

from ctm_plugin import demo as story
from ctm_plugin.domain import intelligence as links
from ctm_plugin.domain.audit import AuditEvent
from ctm_plugin.domain.case import Case
from ctm_plugin.services import intelligence
from ctm_plugin.services.base import NotFound
from mimosa_host import accounts

INTELLIGENCE = "/m/THA/plugins/ctm/intelligence"
PERPETRATOR = f"{links.PERPETRATOR}:madam lek"


@pytest.fixture
def shared_recruiter(w: World) -> dict[str, int]:
    """The demo's story: one recruiter's alias, written three ways, in two THA cases and a KHM case."""
    assert story.intelligence_cases(w.ctx("caseworker", "THA")) == 2
    assert story.intelligence_cases(w.ctx("khm.caseworker", "KHM")) == 1
    return {person: w.one(Case, beneficiary_id=person).id for _m, person, _a, _c in story.INTELLIGENCE_CASES}


def analyst_of(w: World, username: str, *missions: str) -> None:
    with w.rt.factory() as s, s.begin():
        user = accounts.add_user(s, username, "Synthetic Analyst", "not-a-hash")
        for mission in missions:
            accounts.grant(s, user, mission, "ctm.intelligence_analyst")


def views(w: World, action: str) -> list[tuple[str, str]]:
    return sorted((r["mission_code"], r["username"]) for r in w.audit_rows() if r["action"] == action)


def facts(case: str, mission: str = "THA", **more: object) -> links.CaseFacts:
    return links.CaseFacts(case=links.CaseRef(mission, int(case[-1]), case, f"BEN-{case}"), **more)  # type: ignore[arg-type]


def test_aliases_match_whatever_their_case_accents_or_spaces() -> None:
    assert links.normalised("  MADAM  LÉK ") == links.normalised("madam lek") == "madam lek"
    found = links.entities(
        [
            facts("C-1", perpetrators=(links.PerpetratorFacts("Madam Lek", ("Recruiter",), "THA"),)),
            facts("C-2", perpetrators=(links.PerpetratorFacts("madam  lék", ("Exploiter",), None),)),
            facts("C-3", perpetrators=(links.PerpetratorFacts("Madam Lok", (), None),)),
            facts("C-4", perpetrators=(links.PerpetratorFacts(None, (), None),)),
        ]
    )
    [shared] = links.linking(found)
    assert shared.ref == PERPETRATOR and [c.case_number for c in shared.sorted_cases()] == ["C-1", "C-2"]
    assert shared.roles == {"Recruiter", "Exploiter"} and shared.nationalities == {"THA"}


def test_the_network_draws_the_most_connected_within_its_bounds() -> None:
    cases = [
        facts(
            f"C-{n}", places=(("THA", f"Town {n % 5}"),), perpetrators=(links.PerpetratorFacts(f"P{n % 7}", (), None),)
        )
        for n in range(200)
    ]
    shared = links.linking(links.entities(cases))
    network = links.network(shared, most=4, max_cases=90)
    assert len(network.entities) <= 4 and len(network.cases) <= 90
    assert network.left_out == len(shared) - len(network.entities)
    drawn = {e.ref for e in network.entities}
    assert all(ref in drawn and case in network.cases for ref, case in network.links)
    assert all(len(e.cases) >= len(shared[-1].cases) for e in network.entities)


def test_an_analyst_of_two_missions_sees_the_recruiter_linking_their_three_cases(
    w: World, shared_recruiter: dict[str, int], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        found = intelligence.read(w.request_ctx("analyst"))
    assert sorted(m.code for m in found.missions) == ["KHM", "THA"]
    by_ref = {e.ref: e for e in found.shared}
    recruiter = by_ref[PERPETRATOR]
    assert {(c.mission, c.beneficiary_id) for c in recruiter.cases} == {
        ("THA", "BEN-1000021"),
        ("THA", "BEN-1000022"),
        ("KHM", "BEN-2000021"),
    }
    assert recruiter.aliases == {"Madam Lek", "MADAM LÉK", "madam lek"}
    assert len(by_ref[f"{links.ROUTE}:KHM→THA"].cases) == 3
    assert len(by_ref[f"{links.PLACE}:KHM:poipet"].cases) == 3
    assert len(by_ref[f"{links.RECRUITMENT}:ThroughFriendsOrSocialEvents"].cases) == 3
    assert "lek" not in caplog.text.casefold()  # an alias is never logged
    assert views(w, "intelligence.view") == [("KHM", "analyst"), ("THA", "analyst")]  # each mission's read


def test_a_mission_analyst_never_sees_another_missions_cases(w: World, shared_recruiter: dict[str, int]) -> None:
    analyst_of(w, "tha.analyst", "THA")
    found = intelligence.read(w.request_ctx("tha.analyst"), "network")
    assert [m.code for m in found.missions] == ["THA"]
    assert {c.mission for e in found.shared for c in e.cases} == {"THA"}
    recruiter = next(e for e in found.shared if e.ref == PERPETRATOR)
    assert len(recruiter.cases) == 2 and "madam lek" not in recruiter.aliases  # KHM's spelling stays in KHM
    assert views(w, "intelligence.network.view") == [("THA", "tha.analyst")]
    for username in ("caseworker", "hq", "auditor"):
        with pytest.raises(NotFound):
            intelligence.read(w.request_ctx(username))


def test_the_package_goes_out_only_with_the_law_enforcement_consent_in_force(
    w: World, shared_recruiter: dict[str, int]
) -> None:
    analyst = w.request_ctx("analyst")
    with pytest.raises(intelligence.NoConsent):
        intelligence.referral_package(analyst, shared_recruiter["BEN-1000022"])
    assert views(w, "intelligence.package") == []
    package = intelligence.referral_package(analyst, shared_recruiter["BEN-1000021"])
    assert [p.alias for p in package.perpetrators] == ["Madam Lek"] and package.routes == (("KHM", "THA"),)
    assert [(e.type, e.country, e.locality) for e in package.events] == [
        ("Recruitment", "KHM", "Poipet"),
        ("Exploitation", "THA", "Bangkok"),
    ]
    [event] = [r for r in w.audit_rows() if r["action"] == "intelligence.package"]
    assert (event["username"], event["case_id"]) == ("analyst", shared_recruiter["BEN-1000021"])
    with pytest.raises(NotFound):  # KHM's case is not THA's to package
        intelligence.referral_package(analyst, shared_recruiter["BEN-2000021"])
    with pytest.raises(NotFound):
        intelligence.referral_package(w.request_ctx("caseworker"), shared_recruiter["BEN-1000021"])


def test_a_withdrawn_consent_stops_the_package(w: World, shared_recruiter: dict[str, int]) -> None:
    from ctm_plugin.domain.assistance import Consent

    case_id = shared_recruiter["BEN-1000021"]
    with w.rt.factory() as s, s.begin():
        consent = s.scalar(sa.select(Consent).where(Consent.case_id == case_id, Consent.purpose == "LawEnforcement"))
        consent.withdrawn_on = consent.given_on
    with pytest.raises(intelligence.NoConsent):
        intelligence.referral_package(w.request_ctx("analyst"), case_id)


def test_the_analysts_pages_and_nobody_elses(w: World, shared_recruiter: dict[str, int], login) -> None:  # noqa: ANN001
    analyst = login("analyst")
    page = text(analyst.get(INTELLIGENCE))
    assert f'data-entity="{PERPETRATOR}"' in page and "Madam Lek" in page and 'data-table="most-connected"' in page
    assert 'href="/m/KHM/plugins/ctm/intelligence/cases/' in page  # KHM's case's package, in KHM
    assert "/records/beneficiary/" not in page  # no case tab: the analyst may not see cases
    network = text(analyst.get(f"{INTELLIGENCE}/network"))
    assert "<svg" in network and 'data-table="network"' in network and f'data-node="{PERPETRATOR}"' in network
    assert "style=" not in network.partition("<svg")[2].partition("</svg>")[0]  # the CSP allows no inline style
    refused = analyst.get(f"{INTELLIGENCE}/cases/{shared_recruiter['BEN-1000022']}/package")
    assert refused.status_code == 409 and 'data-refused="consent"' in text(refused)
    printed = text(analyst.get(f"{INTELLIGENCE}/cases/{shared_recruiter['BEN-1000021']}/package"))
    assert 'data-print="referral-package"' in printed and "Poipet" in printed and "Madam Lek" in printed
    download = analyst.get(f"{INTELLIGENCE}/cases/{shared_recruiter['BEN-1000021']}/package.csv")
    assert download.status_code == 200 and download.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(download.get_data(as_text=True).lstrip("\ufeff"))))
    assert ["Perpetrators", "1", "Madam Lek; Recruiter or intermediary; Thailand"] in rows
    assert views(w, "intelligence.package.download") == [("THA", "analyst")]
    caseworker = login("caseworker")
    assert "Intelligence" not in text(caseworker.get("/m/THA/plugins/ctm/cases"))
    for path in ("", "/network", f"/cases/{shared_recruiter['BEN-1000021']}/package"):
        assert caseworker.get(INTELLIGENCE + path).status_code == 404
    assert login("hq").get(INTELLIGENCE).status_code == 404


def test_the_demo_story_is_told_once(w: World, shared_recruiter: dict[str, int]) -> None:
    assert story.intelligence_cases(w.ctx("caseworker", "THA")) == 0
    with w.rt.factory() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(AuditEvent).where(AuditEvent.action == "case.open")) == 3


def test_with_nothing_shared_the_pages_say_so(w: World, login) -> None:  # noqa: ANN001
    w.open()  # one case: nothing to share with
    analyst = login("analyst")
    for path in ("", "/network"):
        page = text(analyst.get(INTELLIGENCE + path))
        assert "No perpetrator or place is shared by two cases." in page and "<svg" not in page
    assert views(w, "intelligence.view") == [("KHM", "analyst"), ("THA", "analyst")]
