"""The demo's research story (``mimosa-host demo past``, then ``mimosa-host ctm demo research``): its cases stand
on the host's past beneficiaries, each opens on its host record, the first pull finds their people as the story
wrote them, and they are nobody's **My cases** and behind the current cases in **Cases**."""

from __future__ import annotations

import re

import sqlalchemy as sa
from world import OPENED, World

from ctm_plugin import demo as story
from ctm_plugin.domain.case import Case
from ctm_plugin.domain.sync import HostLink
from ctm_plugin.services import cases, people
from mimosa_host.demo import seed_past

COUNT = 30
CASE_NUMBER = re.compile(r"THA-(?:CT|R)-\d{4}-\d{5}")


def with_the_research_story(w: World) -> list[Case]:
    assert seed_past(w.rt, COUNT) == 2 * COUNT
    assert seed_past(w.rt, COUNT) == 0  # safe to repeat
    for mission in ("THA", "KHM"):
        assert story.research_cases(w.job_ctx(mission), COUNT) == COUNT
    with w.rt.factory() as s:
        return list(s.scalars(sa.select(Case).where(Case.owner == story.FORMER_CASEWORKER)))


def test_each_research_case_opens_on_its_host_record_closed_and_a_former_caseworkers(w: World, connected, login):  # noqa: ANN001
    past = with_the_research_story(w)
    assert len(past) == 2 * COUNT
    assert {case.status for case in past} == {"Closed"}
    caseworker = login("caseworker")
    for case in (c for c in past if c.mission_code == "THA"):
        page = caseworker.get(f"/m/THA/plugins/ctm/records/beneficiary/{case.beneficiary_id}/case")
        assert page.status_code == 200, case.beneficiary_id
        assert case.case_number in page.get_data(as_text=True)


def test_the_first_pull_finds_the_research_cases_people_as_the_story_wrote_them(w: World, connected) -> None:  # noqa: ANN001
    past = with_the_research_story(w)
    for mission in ("THA", "KHM"):
        assert people.pull(w.job_ctx(mission)) >= COUNT  # every research case refreshed from its host record
    with w.rt.factory() as s:
        links = s.scalars(sa.select(HostLink).where(HostLink.case_id.in_([c.id for c in past]))).all()
    assert len(links) == 2 * COUNT
    assert [link.changes for link in links if link.changes] == []  # "The last refresh changed nothing."


def test_the_research_cases_are_in_no_ones_own_list_and_behind_the_current_cases(w: World, login) -> None:
    with_the_research_story(w)
    cases.open_case(w.ctx("caseworker"), "BEN-1000002", {"opened_on": OPENED})  # today's work
    caseworker = login("caseworker")
    mine = CASE_NUMBER.findall(caseworker.get("/m/THA/plugins/ctm/cases/mine").get_data(as_text=True))
    assert mine and not [number for number in mine if "-R-" in number]
    listed = CASE_NUMBER.findall(caseworker.get("/m/THA/plugins/ctm/cases").get_data(as_text=True))
    first_past = next(i for i, number in enumerate(listed) if "-R-" in number)
    assert first_past > 0 and not [n for n in listed[first_past:] if "-CT-" in n]  # the latest change first
