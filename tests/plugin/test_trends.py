"""Trends: the counts made by the job, seen by researchers, HQ and supervisors only through small-cell
suppression, by year or by quarter, over every mission of their scope; closed years only, each published once
and never changed; and no two views a reader can ask for, nor two releases, can be subtracted to give a small
count."""

from __future__ import annotations

import html as html_module
import random
import re
from collections import Counter
from datetime import date
from html.parser import HTMLParser

import pytest
import sqlalchemy as sa
from world import World

from ctm_plugin import demo
from ctm_plugin.domain import trends as trend_counts
from ctm_plugin.domain.case import Case, PersonProfile
from ctm_plugin.domain.scope import mission_session
from ctm_plugin.domain.trends import TrendCell, TrendPublished, TrendRelease, last_closed_year
from ctm_plugin.research import small_cell_k
from ctm_plugin.services import retention, trends
from ctm_plugin.services.base import Invalid, NotFound
from ctm_plugin.services.trends import _tables

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
            shown = "quarter" if "quarter" in query else "year"  # the bin shown is the one the select says
            assert f'<option value="{shown}" selected>' in response.get_data(as_text=True), (username, query)


def test_the_tables_are_the_true_counts_where_published(w: World):
    seeded(w, 60)
    found = trends.trends(w.request_ctx("researcher"), {})
    by_mission = next(t for t in found.tables if t.dimension.key == "mission")
    with w.rt.factory() as s:  # every THA case: the demo's own and the research story's
        days = s.scalars(sa.select(Case.opened_on).where(Case.mission_code == "THA")).all()
    by_year: dict[str, int] = {}
    for day in days:
        if found.up_to and day.year <= found.up_to:
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


def test_the_year_in_progress_is_never_shown_nor_the_last_before_its_release(w: World, login):
    assert last_closed_year(date(2026, 1, 31)) == 2024  # a month to enter the year's last cases
    assert last_closed_year(date(2026, 2, 1)) == 2025
    this_year = date.today().year  # the missions' clock is UTC here
    seeded(w, 60)
    opened_again(w, date.today())
    trends.refresh(w.job_ctx("THA"))
    with mission_session(w.job_ctx("THA")) as session:
        assert session.scalar(sa.select(sa.func.max(TrendCell.quarter))) >= f"{this_year}-Q1"  # counted
        assert session.scalar(sa.select(sa.func.max(TrendPublished.quarter))) < f"{this_year}-Q1"  # not published
    for period in ("quarter", "year"):
        found = trends.trends(w.request_ctx("hq"), {"period": period})
        assert found.up_to == last_closed_year(date.today())
        assert all(p[:4] <= str(found.up_to) for t in found.tables for p in t.periods)
    body = login("researcher").get(TRENDS + "?period=quarter").get_data(as_text=True)
    assert f'data-period="{this_year}-Q1"' not in body and f'data-period="{found.up_to}-Q4"' in body
    assert f"The counts go up to the end of {found.up_to}" in body and "never changes after" in body


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


def _numbers(tables: tuple[trends.TrendTable, ...]) -> dict[tuple[str, str, str], str]:
    """The tables' numbers by (table, period, value), "total" for a row's total and as the Total row's period."""
    found: dict[tuple[str, str, str], str] = {}
    for t in tables:
        n = t.numbers
        rows = zip((*t.periods, "total"), (*n.cells, n.column_totals), (*n.row_totals, n.total), strict=True)
        for period, row, total in rows:
            found.update(
                {(t.dimension.key, period, v): shown.text(n.k) for v, shown in zip(t.values, row, strict=True)}
            )
            found[(t.dimension.key, period, "total")] = total.text(n.k)
    return found


def _page(w: World) -> dict[tuple[str, str, str], str]:
    """Every number HQ reads, both views."""
    return {
        key: n
        for period in ("quarter", "year")
        for key, n in _numbers(trends.trends(w.request_ctx("hq"), {"period": period}).tables).items()
    }


def _released(w: World, today: date) -> None:
    for mission in ("THA", "KHM"):
        with mission_session(w.job_ctx(mission)) as session:
            trend_counts.refresh(session, today)
            session.commit()


def test_a_year_published_never_changes_whatever_comes_later(w: World):
    """Two releases: 2024 closed and published, then 2025; between them a case entered late into 2024, one of
    2024 edited, one purged. The job counts them, but every number published for 2024 and before is the same."""
    seeded(w, 60)
    for mission in ("THA", "KHM"):  # as if the trends job had run first at the start of 2025
        with mission_session(w.job_ctx(mission)) as session:
            for row in [*session.scalars(sa.select(TrendPublished)), *session.scalars(sa.select(TrendRelease))]:
                session.delete(row)
            session.commit()
    _released(w, date(2025, 2, 1))
    before = _page(w)
    assert {p[:4] for _t, p, _v in before if p != "total"} == {str(y) for y in range(2021, 2025)}
    with mission_session(w.job_ctx("THA")) as session:
        of_2024 = session.scalars(sa.select(Case).where(Case.opened_on.between(date(2024, 1, 1), date(2024, 12, 31))))
        late, edited, purged = list(of_2024)[:3]
        late.opened_on = date(2024, 11, 30)  # a case entered with a past date, in a quarter of its own
        session.scalars(sa.select(PersonProfile).where(PersonProfile.case_id == edited.id)).one().gender = "Masculine"
        retention._delete_case(w.job_ctx("THA"), session, purged)
        session.commit()
    _released(w, date(2026, 2, 1))
    with mission_session(w.job_ctx("THA")) as session:
        counted = dict(
            session.execute(sa.select(TrendCell.quarter, TrendCell.count).where(TrendCell.dimension == "cases")).all()
        )
        published = dict(
            session.execute(
                sa.select(TrendPublished.quarter, TrendPublished.count).where(TrendPublished.dimension == "cases")
            ).all()
        )
    assert sum(n for q, n in counted.items() if q < "2025") != sum(n for q, n in published.items() if q < "2025")
    after = _page(w)
    assert {p[:4] for _t, p, _v in after if p != "total"} == {str(y) for y in range(2021, 2026)}
    assert {key: n for key, n in after.items() if key[1][:4] <= "2024"} == {
        k: n for k, n in before.items() if k[1] != "total"
    }


def _view(counts: dict[str, Counter[tuple[str, str]]], last: int) -> dict[tuple[str, str, str], str]:
    """The numbers of :func:`_tables` over the years to ``last``, both views."""
    upto = {key: Counter({c: n for c, n in cells.items() if int(c[0][:4]) <= last}) for key, cells in counts.items()}
    return {key: n for by_year in (False, True) for key, n in _numbers(_tables(upto, last, 11, by_year)).items()}


def test_a_new_year_published_does_not_give_its_few_cases_away_by_the_total():
    """The review's example: 105 cases published (50 in a quarter, 28 women, 22 men), then a period of 5 cases
    (3 women, 2 men) closes: the totals over every period must not go from 105 to 110 (women 58 to 61)."""
    cases = {("2024-Q1", "all"): 55, ("2024-Q2", "all"): 50, ("2025-Q1", "all"): 5}
    sex = {("2024-Q1", "F"): 30, ("2024-Q1", "M"): 25, ("2024-Q2", "F"): 28, ("2024-Q2", "M"): 22}
    sex |= {("2025-Q1", "F"): 3, ("2025-Q1", "M"): 2}
    counts = {"cases": Counter(cases), "sex": Counter(sex)}
    first, second = _view(counts, 2024), _view(counts, 2025)
    assert first[("cases", "total", "all")] == "105"
    assert {key: n for key, n in second.items() if key[1][:4] == "2024"} == {
        key: n for key, n in first.items() if key[1][:4] == "2024"
    }
    for key, n in first.items():
        if key[1] == "total" and n.isdigit() and second[key].isdigit():
            assert not 0 < int(second[key]) - int(n) < 11, key
    assert second[("cases", "total", "all")] == "x"  # 2025 is "<11": the sum over every year is withheld


def test_cases_withheld_in_a_quarter_withhold_that_quarter_of_a_table_where_a_case_has_several_values():
    """The review's example: the cases of Q1 withheld, but citizenship's Q1 published, 14 mentions all KHM:
    every case has a citizenship ("?" at least), so Q1 had 14 cases, and the "<11" of Q3 is 61 - 14 - 14 - 30."""
    cases = {"2024-Q1": 14, "2024-Q2": 14, "2024-Q3": 3, "2024-Q4": 30}
    sex = {("2024-Q1", "F"): 10, ("2024-Q1", "M"): 4, ("2024-Q2", "F"): 12, ("2024-Q2", "M"): 2}
    sex |= {("2024-Q3", "F"): 3, ("2024-Q4", "F"): 12, ("2024-Q4", "M"): 18}
    citizenship = {("2024-Q1", "KHM"): 14, ("2024-Q2", "KHM"): 3, ("2024-Q2", "MMR"): 11, ("2024-Q3", "MMR"): 3}
    citizenship |= {("2024-Q4", "KHM"): 13, ("2024-Q4", "MMR"): 17}
    counts = {
        "cases": Counter({(q, "all"): n for q, n in cases.items()}),
        "sex": Counter(sex),
        "citizenship": Counter(citizenship),
    }
    found = _view(counts, 2024)
    assert found[("cases", "2024-Q1", "all")] == "x" and found[("cases", "2024", "all")] == "61"
    assert [found[("citizenship", "2024-Q1", v)] for v in ("KHM", "MMR", "total")] == ["x", "x", "x"]
    for value in ("KHM", "MMR"):  # nor worked out from the year less the other quarters
        quarters = [found[("citizenship", f"2024-Q{q}", value)] for q in range(2, 5)]
        assert not all(n.isdigit() for n in quarters), value


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
    """Every view the form offers (every combination of its choices), and every number a reader can work out from
    them: a year less its quarters, the sum of a withheld year's quarters, the Total row less the other years;
    and across the tables of the same cases: the same totals withheld, and a period whose cases are withheld
    has nothing but "x" (or 0) in a table where a case counts under several values (a value's count is at
    most the cases, the mentions at least). None is from 1 to k - 1 (k: below it a count is withheld)."""
    seeded(w, 40)
    k = small_cell_k()
    browser = login("hq")
    choices = _views(browser, {}).choices
    assert list(choices) == ["period"]  # the one filter: no mission or type to subtract from all
    views = {period: _views(browser, {"period": period}).numbers for period in choices["period"]}
    years, quarters = views["year"], views["quarter"]
    found = []
    for (table, year, value), shown in years.items():
        if year == "total":
            parts = [n for (t, p, v), n in years.items() if t == table and v == value and p != "total"]
            expected = str(sum(map(int, parts))) if all(p.isdigit() for p in parts) else "x"
            if shown != expected or quarters[(table, "total", value)] != shown:
                found.append((table, value, "a Total row not the published years' sum"))
            continue
        parts = [quarters[key] for key in quarters if key[0] == table and key[1][:4] == year and key[2] == value]
        withheld = [p for p in parts if not p.isdigit()]
        known = sum(int(p) for p in parts if p.isdigit())
        if shown.isdigit() and len(withheld) == 1 and _small(int(shown) - known, k):
            found.append((table, year, value, "a year less its other quarters"))
        if not shown.isdigit() and not withheld and _small(known, k):
            found.append((table, year, value, "the sum of a withheld year's quarters"))
    several = {d.key for d in trend_counts.DIMENSIONS if d.several}
    together = set(trends.SUPPRESSED_TOGETHER)
    for numbers in views.values():
        cases = {p: n for (t, p, v), n in numbers.items() if t == "cases" and p != "total"}
        for (table, period, value), shown in numbers.items():
            if period == "total" or value != "total" and table not in several:
                continue
            if table in several and not cases[period].isdigit() and shown not in ("x", "0"):
                found.append((table, period, value, "cases withheld, a breakdown of several values published"))
            if table in together and value == "total" and shown.isdigit() != cases[period].isdigit():
                found.append((table, period, "a total of the same cases published in one table, not another"))
    assert found == []
    assert any(not n.isdigit() for (t, p, _v), n in quarters.items() if t == "cases" and p != "total")


def test_the_researcher_finds_the_trends_in_the_menu(w: World, login):
    body = login("researcher").get(TRENDS).get_data(as_text=True)
    assert 'href="/m/THA/plugins/ctm/trends"' in body
