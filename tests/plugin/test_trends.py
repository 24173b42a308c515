"""Trends: the counts made by the job, seen by researchers, HQ and supervisors only through small-cell
suppression, filtered by fixed bins, a mission of their scope and an exploitation type."""

from __future__ import annotations

import html as html_module
import random
import re

import pytest
import sqlalchemy as sa
from world import World

from ctm_plugin import demo
from ctm_plugin.domain.case import Case
from ctm_plugin.domain.scope import mission_session
from ctm_plugin.domain.trends import TrendCell, TrendRefresh
from ctm_plugin.research import small_cell_k
from ctm_plugin.services import trends
from ctm_plugin.services.base import Invalid, NotFound

TRENDS = "/m/THA/plugins/ctm/trends"
COUNT = re.compile(r'data-count="([^"]*)"')


def seeded(w: World, count: int = 120) -> None:
    for mission in ("THA", "KHM"):
        demo.research_cases(w.job_ctx(mission), count, random.Random(f"test-{mission}"))


def published(html: str) -> list[str]:
    return [html_module.unescape(n) for n in COUNT.findall(html)]


def test_no_number_below_k_reaches_any_reader_of_the_page(w: World, login):
    seeded(w)
    k = small_cell_k()
    for username in ("researcher", "hq", "supervisor"):
        for query in ("", "?period=quarter", "?mission=KHM&exploitation=SexualExploitation"):
            response = login(username).get(TRENDS + query)
            assert response.status_code == 200, (username, query)
            numbers = published(response.get_data(as_text=True))
            assert numbers, (username, query)
            small = [n for n in numbers if n.isdigit() and 0 < int(n) < k]
            assert small == [], (username, query)
            assert f"<{k}" in numbers  # the demo has rare cells, and they show as such


def test_the_tables_are_the_true_counts_where_published(w: World):
    seeded(w, 60)
    found = trends.trends(w.request_ctx("researcher"), {"mission": "THA"})
    cases = next(t for t in found.tables if t.dimension.key == "cases")
    with w.rt.factory() as s:  # every THA case: the demo's own and the research story's
        days = s.scalars(sa.select(Case.opened_on).where(Case.mission_code == "THA")).all()
    by_year: dict[str, int] = {}
    for day in days:
        by_year[str(day.year)] = by_year.get(str(day.year), 0) + 1
    for period, shown in zip(cases.periods, cases.numbers.row_totals, strict=True):
        if shown.count is not None:
            assert shown.count == by_year.get(period, 0)
        else:
            assert shown.withheld


def test_the_scope_is_the_missions_where_the_user_holds_the_permission(w: World):
    seeded(w, 30)
    hq = trends.trends(w.request_ctx("hq"), {})
    assert [m.code for m in hq.missions] == ["KHM", "THA"] or {m.code for m in hq.missions} == {"KHM", "THA"}
    with pytest.raises(Invalid) as refused:
        trends.trends(w.request_ctx("researcher"), {"mission": "MDA"})
    assert set(refused.value.errors) == {"mission"}
    with pytest.raises(NotFound):
        trends.trends(w.request_ctx("caseworker"), {})


def test_a_bad_filter_is_a_message_naming_it_not_a_500(w: World, login):
    browser = login("researcher")
    for query, field in (
        ("?period=week", "period"),
        ("?exploitation=Nonsense", "exploitation"),
        ("?from=2020", "from"),
    ):
        response = browser.get(TRENDS + query)
        assert response.status_code == 400, query
        assert f'data-error="{field}"' in response.get_data(
            as_text=True
        ) or f'id="filter-{field}"' in response.get_data(as_text=True)


def test_caseworkers_and_auditors_get_404(w: World, login):
    for username in ("caseworker", "auditor", "khm.caseworker"):
        assert login(username).get(TRENDS).status_code == 404


def test_the_job_counts_again_and_the_page_says_as_of_when(w: World, login):
    seeded(w, 20)
    ctx = w.job_ctx("THA")
    with mission_session(ctx) as session:
        before = session.scalar(sa.select(TrendRefresh.refreshed_at))
    assert trends.refresh(ctx) > 0
    with mission_session(ctx) as session:
        assert session.scalar(sa.select(TrendRefresh.refreshed_at)) >= before
        assert session.scalar(sa.select(sa.func.sum(TrendCell.count)).where(TrendCell.dimension == "cases")) >= 20
    body = login("researcher").get(TRENDS).get_data(as_text=True)
    assert 'data-note="as-of"' in body and "THA: counted as of" in body


def test_a_view_is_audited_in_each_mission_read(w: World, login):
    seeded(w, 20)
    login("researcher").get(TRENDS)
    views = [(row["mission_code"], row["case_id"]) for row in w.audit_rows() if row["action"] == "trends.view"]
    assert sorted(views) == [("KHM", None), ("THA", None)]


def test_the_researcher_finds_the_trends_in_the_menu(w: World, login):
    body = login("researcher").get(TRENDS).get_data(as_text=True)
    assert 'href="/m/THA/plugins/ctm/trends"' in body
