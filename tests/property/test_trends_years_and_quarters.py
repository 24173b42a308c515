"""The trends by year and by quarter are published from one suppression pattern of each year's block: whatever
the counts, every number either view shows is the true count and not below k, no year's number less its
published quarters, nor the published quarters of a withheld year, gives a count below k, the Total row is the
published years' sum or withheld, and a year's numbers are the same whatever the other years hold (the release
of a later year changes nothing of it)."""

from __future__ import annotations

from collections import Counter

from hypothesis import given
from hypothesis import strategies as st
from property_helpers import EXAMPLES

from ctm_plugin.services.trends import _tables

K = 11
QUARTERS = [f"{year}-Q{q}" for year in (2024, 2025, 2026) for q in (1, 2, 3, 4)][1:-1]  # the ends: partial years


@EXAMPLES
@given(rows=st.integers(1, len(QUARTERS)), columns=st.integers(1, 4), data=st.data())
def test_no_year_less_its_quarters_gives_a_small_count(rows: int, columns: int, data: st.DataObject) -> None:
    periods = QUARTERS[-rows:]
    drawn = data.draw(
        st.lists(
            st.lists(st.sampled_from([0, 0, 1, 2, 5, 10, 11, 12, 30]), min_size=columns, max_size=columns),
            min_size=rows,
            max_size=rows,
        )
    )
    cells = {(p, f"v{j}"): drawn[i][j] for i, p in enumerate(periods) for j in range(columns) if drawn[i][j]}
    if not cells:
        return
    last = int(periods[-1][:4])
    quarterly = _tables({"sex": Counter(cells)}, last, K, by_year=False)[0]
    yearly = _tables({"sex": Counter(cells)}, last, K, by_year=True)[0]
    first = min(int(p[:4]) for p, _v in cells)
    years = tuple(str(year) for year in range(first, last + 1))
    assert yearly.periods == years
    assert quarterly.periods == tuple(f"{year}-Q{q}" for year in years for q in range(1, 5))
    assert yearly.numbers.disclosive == quarterly.numbers.disclosive
    q, y = quarterly.numbers, yearly.numbers
    assert (y.column_totals, y.total) == (q.column_totals, q.total)

    def check(year_number: int | None, quarter_numbers: list[int | None], true: int) -> None:
        known = sum(n or 0 for n in quarter_numbers)
        withheld = [n for n in quarter_numbers if n is None]
        if year_number is not None:
            assert year_number == true and not 0 < year_number < K
            assert not (len(withheld) == 1 and 0 < year_number - known < K)
        else:
            assert withheld or not 0 < known < K
        assert all(n is None or not 0 < n < K for n in quarter_numbers)

    for n, year in enumerate(years):
        of = [i for i, p in enumerate(quarterly.periods) if p.startswith(year)]
        for j, value in enumerate(yearly.values):
            true = [cells.get((quarterly.periods[i], value), 0) for i in of]
            check(y.cells[n][j].count, [q.cells[i][j].count for i in of], sum(true))
            assert [q.cells[i][j].count for i in of if q.cells[i][j].count is not None] == [
                t for i, t in zip(of, true, strict=True) if q.cells[i][j].count is not None
            ]
        true_total = sum(c for (p, _v), c in cells.items() if p.startswith(year))
        check(y.row_totals[n].count, [q.row_totals[i].count for i in of], true_total)
        alone = _tables(
            {"sex": Counter({c: n for c, n in cells.items() if c[0].startswith(year)})}, int(year), K, False
        )
        for table in alone:  # the year's block as a release of that year alone published it
            for i, period in enumerate(table.periods):
                row = dict(zip(table.values, table.numbers.cells[i], strict=True))
                mine = dict(zip(quarterly.values, q.cells[quarterly.periods.index(period)], strict=True))
                assert {v: s for v, s in mine.items() if v in row} == row
    for j, _value in enumerate(yearly.values):
        parts = [y.cells[n][j].count for n in range(len(years))]
        assert y.column_totals[j].count == (None if None in parts else sum(p or 0 for p in parts))
