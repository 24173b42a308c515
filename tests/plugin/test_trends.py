"""Trends: the counts made by the job, seen by researchers, HQ and supervisors only through small-cell
suppression, by year or by quarter, over every mission of their scope; closed quarters only, published once a
day; and no two views a reader can ask for can be subtracted to give a small count."""

from __future__ import annotations

import html as html_module
import random
import re
from datetime import date, timedelta
from html.parser import HTMLParser
from itertools import product

import pytest
import sqlalchemy as sa
from world import World

from ctm_plugin import demo
from ctm_plugin.domain.case import Case
from ctm_plugin.domain.scope import mission_session
from ctm_plugin.domain.trends import TrendCell, TrendPublished, TrendRefresh, quarter_before, quarter_of
from ctm_plugin.research import small_cell_k
from ctm_plugin.services import trends
from ctm_plugin.services.base import Invalid, NotFound
from mimosa_host.plugin_api import RequestContext

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
        for query in ("", "?period=quarter", "?period=year&mission=&exploitation="):  # blank: the old form's
            response = login(username).get(TRENDS + query)
            assert response.status_code == 200, (username, query)
            numbers = published(response.get_data(as_text=True))
            assert numbers, (username, query)
            small = [n for n in numbers if n.isdigit() and 0 < int(n) < k]
            assert small == [], (username, query)
            assert f"<{k}" in numbers  # the demo has rare cells, and they show as such


def test_the_tables_are_the_true_counts_where_published(w: World):
    seeded(w, 60)
    found = trends.trends(w.request_ctx("researcher"), {})
    by_mission = next(t for t in found.tables if t.dimension.key == "mission")
    with w.rt.factory() as s:  # every THA case: the demo's own and the research story's
        days = s.scalars(sa.select(Case.opened_on).where(Case.mission_code == "THA")).all()
    by_year: dict[str, int] = {}
    for day in days:
        if quarter_of(day) <= found.up_to:
            by_year[str(day.year)] = by_year.get(str(day.year), 0) + 1
    tha = by_mission.values.index("THA")
    for period, row in zip(by_mission.periods, by_mission.numbers.cells, strict=True):
        if row[tha].count is not None:
            assert row[tha].count == by_year.get(period, 0)
        else:
            assert row[tha].withheld


def opened_again(w: World, on: date) -> None:
    """The THA case of the lowest id opened on ``on`` instead."""
    with mission_session(w.job_ctx("THA")) as session:
        session.scalars(sa.select(Case).order_by(Case.id)).first().opened_on = on
        session.commit()


def published_a_day_later(ctx: RequestContext) -> None:
    """The mission's counts published a day ago, and the job's next count."""
    with mission_session(ctx) as session:
        session.scalars(sa.select(TrendRefresh)).one().published_at -= timedelta(days=1)
        session.commit()
    trends.refresh(ctx)


def test_the_quarter_in_progress_is_never_shown(w: World, login):
    now = quarter_of(date.today())  # the missions' clock is UTC here
    seeded(w, 60)
    opened_again(w, date.today())
    published_a_day_later(w.job_ctx("THA"))
    with mission_session(w.job_ctx("THA")) as session:
        assert session.scalar(sa.select(sa.func.max(TrendPublished.quarter))) == now  # published, not shown
    for period in ("quarter", "year"):
        found = trends.trends(w.request_ctx("hq"), {"period": period})
        assert found.up_to == quarter_before(now)
        assert all(p <= found.up_to for t in found.tables for p in t.periods)
    body = login("researcher").get(TRENDS + "?period=quarter").get_data(as_text=True)
    assert f'data-period="{now}"' not in body and f'data-period="{quarter_before(now)}"' in body
    assert f"The counts go up to the end of {quarter_before(now)}" in body


def test_the_scope_is_the_missions_where_the_user_holds_the_permission(w: World):
    seeded(w, 30)
    hq = trends.trends(w.request_ctx("hq"), {})
    assert {f.mission.code for f in hq.freshness} == {"KHM", "THA"}
    by_mission = next(t for t in hq.tables if t.dimension.key == "mission")
    assert set(by_mission.values) == {"KHM", "THA"}
    with pytest.raises(Invalid) as refused:
        trends.trends(w.request_ctx("researcher"), {"mission": "THA"})
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
    for old in ("?mission=KHM", "?exploitation=ForcedLabour"):  # a bookmark of the filters that are gone
        response = browser.get(TRENDS + old)
        assert response.status_code == 400, old
        assert "no longer filtered by this" in response.get_data(as_text=True), old


def test_caseworkers_and_auditors_get_404(w: World, login):
    for username in ("caseworker", "auditor", "khm.caseworker"):
        assert login(username).get(TRENDS).status_code == 404


def test_the_job_counts_every_hour_but_publishes_once_a_day(w: World, login):
    seeded(w, 20)
    ctx = w.job_ctx("THA")

    def state() -> tuple[dict[str, int], dict[str, int], object]:
        with mission_session(ctx) as session:
            cells = TrendCell.dimension == "cases"
            published = TrendPublished.dimension == "cases"
            return (
                dict(session.execute(sa.select(TrendCell.quarter, TrendCell.count).where(cells)).all()),
                dict(session.execute(sa.select(TrendPublished.quarter, TrendPublished.count).where(published)).all()),
                session.scalar(sa.select(TrendRefresh.published_at)),
            )

    counted, published, published_at = state()
    assert counted == published and "2020-Q1" not in counted
    opened_again(w, date(2020, 1, 15))  # a case entered late, in a quarter closed long ago
    assert trends.refresh(ctx) > 0
    recounted = state()[0]
    assert recounted["2020-Q1"] == 1 and sum(recounted.values()) == sum(counted.values())
    assert state()[1:] == (published, published_at)  # counted, not published: the page is as it was
    body = login("researcher").get(TRENDS).get_data(as_text=True)
    assert 'data-note="as-of"' in body and "THA: published as of" in body and "once a day" in body
    published_a_day_later(ctx)
    assert state()[1] == recounted


def test_a_view_is_audited_in_each_mission_read_with_the_filter_asked(w: World, login):
    seeded(w, 20)
    login("researcher").get(TRENDS + "?period=quarter")
    views = [
        (row["mission_code"], row["case_id"], row["field_groups"])
        for row in w.audit_rows()
        if row["action"] == "trends.view"
    ]
    assert sorted(views) == [("KHM", None, ["trends", "trends:quarter"]), ("THA", None, ["trends", "trends:quarter"])]


class _Tables(HTMLParser):
    """The page's published numbers, by (table, period, value) (value "total" for a row's total), and the
    choices of its filter form."""

    def __init__(self) -> None:
        super().__init__()
        self.numbers: dict[tuple[str, str, str], str] = {}
        self.choices: dict[str, list[str]] = {}
        self._table, self._values, self._period, self._column, self._select = "", [""], "", 0, ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "select":
            self._select = a["name"] or ""
            self.choices[self._select] = []
        elif tag == "option" and self._select:
            self.choices[self._select].append(a.get("value") or "")
        elif tag == "table":
            self._table, self._values = a.get("data-table") or "", []
        elif tag == "th" and a.get("scope") == "col" and "data-value" in a:
            self._values.append(a["data-value"] or "")
        elif tag == "tr" and "data-period" in a:
            self._period, self._column = a["data-period"] or "", 0
        elif tag == "td" and "data-count" in a:
            value = self._values[self._column] if self._column < len(self._values) else "total"
            self.numbers[(self._table, self._period, value)] = html_module.unescape(a["data-count"] or "")
            self._column += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = ""


def _views(browser, query: dict[str, str]) -> _Tables:  # noqa: ANN001
    response = browser.get(TRENDS + "?" + "&".join(f"{k}={v}" for k, v in query.items()))
    assert response.status_code == 200, query
    parsed = _Tables()
    parsed.feed(response.get_data(as_text=True))
    return parsed


def _small(number: int, k: int) -> bool:
    return 0 < number < k


def test_no_two_views_a_reader_can_ask_for_subtract_to_a_small_count(w: World, login):
    """Every view the form offers (every combination of its choices), and every number a reader can work out by
    subtracting one view's published number from another's: a year from its quarters, all missions from one,
    every type from one. None is from 1 to k - 1 (k: below it a count is withheld)."""
    seeded(w, 40)
    k = small_cell_k()
    browser = login("hq")
    choices = _views(browser, {}).choices
    names = sorted(choices)
    views = {
        combo: _views(browser, dict(zip(names, combo, strict=True))) for combo in product(*(choices[n] for n in names))
    }
    assert len(views) >= 2
    found = []
    for combo, view in views.items():
        asked = dict(zip(names, combo, strict=True))
        if asked.get("period") != "year":
            continue
        quarters = views[tuple("quarter" if n == "period" else asked[n] for n in names)].numbers
        for (table, year, value), shown in view.numbers.items():
            parts = [quarters[key] for key in quarters if key[0] == table and key[1][:4] == year and key[2] == value]
            withheld = [p for p in parts if not p.isdigit()]
            known = sum(int(p) for p in parts if p.isdigit())
            if shown.isdigit() and len(withheld) == 1 and _small(int(shown) - known, k):
                found.append((asked, table, year, value, "a year less its other quarters"))
            if not shown.isdigit() and not withheld and _small(known, k):
                found.append((asked, table, year, value, "the sum of a withheld year's quarters"))
    for (combo, view), (other_combo, other) in product(views.items(), repeat=2):
        asked, other_asked = dict(zip(names, combo, strict=True)), dict(zip(names, other_combo, strict=True))
        differ = [n for n in names if asked[n] != other_asked[n]]
        if len(differ) != 1 or asked[differ[0]] != "" or differ[0] == "period":
            continue  # ``view`` is every mission (or type), ``other`` one of them, the rest the same
        for key, shown in view.numbers.items():
            part = other.numbers.get(key, "0")
            if shown.isdigit() and part.isdigit() and _small(int(shown) - int(part), k):
                found.append((other_asked, *key, f"all less one {differ[0]}"))
    assert found == []


def test_the_researcher_finds_the_trends_in_the_menu(w: World, login):
    body = login("researcher").get(TRENDS).get_data(as_text=True)
    assert 'href="/m/THA/plugins/ctm/trends"' in body
