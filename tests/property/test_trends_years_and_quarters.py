"""The trends by year and by quarter are published from one suppression pattern: whatever the counts, every
number either view shows is the true count and not below k, and no year's number less its published quarters,
nor the published quarters of a withheld year, gives a count below k."""

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
    counts = {"sex": Counter(cells)}
    if not cells:
        return
    first = next(i for i, row in enumerate(drawn) if any(row))
    quarterly = _tables(counts, periods[-1], K, by_year=False)[0]
    yearly = _tables(counts, periods[-1], K, by_year=True)[0]
    assert quarterly.periods == tuple(periods[first:])
    assert yearly.periods == tuple(sorted({p[:4] for p in quarterly.periods}))
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

    for n, year in enumerate(yearly.periods):
        of = [i for i, p in enumerate(quarterly.periods) if p.startswith(year)]
        for j, value in enumerate(yearly.values):
            column = int(value[1:])
            true = sum(drawn[first + i][column] for i in of)
            check(y.cells[n][j].count, [q.cells[i][j].count for i in of], true)
        check(y.row_totals[n].count, [q.row_totals[i].count for i in of], sum(sum(drawn[first + i]) for i in of))
