"""The trends by year are made from the trends by quarter alone: every number the year view shows is the sum of
numbers the quarter view shows (so the two views together say no more than the quarter view), whatever the
counts."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from property_helpers import EXAMPLES

from ctm_plugin.domain.trends import BY_KEY
from ctm_plugin.research.suppression import Shown, suppress
from ctm_plugin.services.trends import TrendTable, by_year

K = 11
QUARTERS = [f"{year}-Q{q}" for year in (2024, 2025, 2026) for q in (1, 2, 3, 4)][1:-1]  # the ends: partial years


@EXAMPLES
@given(
    rows=st.integers(1, len(QUARTERS)),
    columns=st.integers(1, 4),
    data=st.data(),
)
def test_every_number_of_a_year_is_a_sum_of_published_quarters(rows: int, columns: int, data: st.DataObject) -> None:
    counts = data.draw(
        st.lists(
            st.lists(st.sampled_from([0, 0, 1, 2, 5, 10, 11, 12, 30]), min_size=columns, max_size=columns),
            min_size=rows,
            max_size=rows,
        )
    )
    periods = tuple(QUARTERS[-rows:])
    quarterly = TrendTable(BY_KEY["sex"], periods, tuple(f"v{j}" for j in range(columns)), suppress(counts, K))
    yearly = by_year(quarterly)
    q, y = quarterly.numbers, yearly.numbers
    assert yearly.periods == tuple(sorted({p[:4] for p in periods}))

    def check(year_number: Shown, quarter_numbers: list[Shown], true: int) -> None:
        if year_number.count is not None:
            assert all(s.count is not None for s in quarter_numbers)
            assert year_number.count == sum(s.count or 0 for s in quarter_numbers) == true
            assert not 0 < year_number.count < K
        else:  # withheld: "<k" only as its one non-zero quarter says it
            assert year_number.withheld == "secondary" or year_number in quarter_numbers

    for n, year in enumerate(yearly.periods):
        rows_of = [i for i, p in enumerate(periods) if p.startswith(year)]
        for j in range(columns):
            check(y.cells[n][j], [q.cells[i][j] for i in rows_of], sum(counts[i][j] for i in rows_of))
        check(y.row_totals[n], [q.row_totals[i] for i in rows_of], sum(sum(counts[i]) for i in rows_of))
    assert (y.column_totals, y.total) == (q.column_totals, q.total)
