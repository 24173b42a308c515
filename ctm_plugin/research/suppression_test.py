"""Small-cell suppression: no published number below k, and no withheld number recoverable from the published
ones by solving the table's equations (checked here by exact elimination, not by the module's cycle rule)."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ctm_plugin.research.suppression import PRIMARY, SECONDARY, Shown, SuppressedTable, suppress, suppress_together

K = 11

rare_or_common = st.one_of(st.integers(0, 3), st.integers(1, K - 1), st.integers(K, 60))
tables = st.integers(1, 5).flatmap(
    lambda columns: st.lists(st.lists(rare_or_common, min_size=columns, max_size=columns), min_size=1, max_size=5)
)


def _grid(table: SuppressedTable) -> list[list[Shown]]:
    return [[*row, total] for row, total in zip(table.cells, table.row_totals, strict=True)] + [
        [*table.column_totals, table.total]
    ]


def _true_grid(counts: list[list[int]]) -> list[list[int]]:
    grid = [[*row, sum(row)] for row in counts]
    return [*grid, [sum(column) for column in zip(*counts, strict=True)] + [sum(map(sum, counts))]]


def _rank(rows: list[list[Fraction]]) -> int:
    matrix = [row[:] for row in rows]
    rank, width = 0, len(matrix[0]) if matrix else 0
    for column in range(width):
        pivot = next((r for r in range(rank, len(matrix)) if matrix[r][column] != 0), None)
        if pivot is None:
            continue
        matrix[rank], matrix[pivot] = matrix[pivot], matrix[rank]
        for r in range(len(matrix)):
            if r != rank and matrix[r][column] != 0:
                factor = matrix[r][column] / matrix[rank][column]
                matrix[r] = [a - factor * b for a, b in zip(matrix[r], matrix[rank], strict=True)]
        rank += 1
    return rank


def recoverable(grid: list[list[Shown]]) -> list[tuple[int, int]]:
    """The withheld entries the published ones determine: an unknown is determined when its unit vector lies in
    the row space of the equations (every row and column adds up to its total) restricted to the unknowns."""
    rows, columns = len(grid) - 1, len(grid[0]) - 1
    unknowns = [(i, j) for i in range(rows + 1) for j in range(columns + 1) if grid[i][j].count is None]
    equations: list[list[tuple[int, int]]] = []
    for i in range(rows + 1):
        equations.append([(i, j) for j in range(columns)] + [(i, columns)])
    for j in range(columns + 1):
        equations.append([(i, j) for i in range(rows)] + [(rows, j)])

    def coefficient(equation: list[tuple[int, int]], entry: tuple[int, int]) -> Fraction:
        if entry not in equation:
            return Fraction(0)
        return Fraction(-1) if entry == equation[-1] else Fraction(1)

    matrix = [[coefficient(equation, u) for u in unknowns] for equation in equations]
    base = _rank(matrix)
    found = []
    for index, entry in enumerate(unknowns):
        unit = [Fraction(int(i == index)) for i in range(len(unknowns))]
        if _rank([*matrix, unit]) == base:
            found.append(entry)
    return found


@settings(max_examples=300, deadline=None)
@given(tables)
def test_no_published_number_is_below_k_and_none_withheld_can_be_worked_out(counts: list[list[int]]) -> None:
    table = suppress(counts, K)
    grid, truth = _grid(table), _true_grid(counts)
    for shown_row, true_row in zip(grid, truth, strict=True):
        for shown, true in zip(shown_row, true_row, strict=True):
            if shown.count is None:
                assert shown.withheld in (PRIMARY, SECONDARY)
                assert shown.withheld != PRIMARY or 0 < true < K
            else:
                assert shown.count == true  # what is published is the truth
                assert shown.count == 0 or shown.count >= K
    assert recoverable(grid) == []


def test_a_lone_small_cell_in_a_row_takes_its_smallest_neighbour_with_it() -> None:
    table = suppress([[3, 40, 25, 0]], K)
    assert [shown.text(K) for shown in table.cells[0]] == ["<11", "40", "x", "0"]
    assert table.total.text(K) == "68"


def test_a_small_total_is_withheld_as_small() -> None:
    table = suppress([[4, 0], [30, 12]], K)
    assert table.row_totals[0].text(K) == "<11"
    assert table.cells[0][1].text(K) == "0"
    assert recoverable(_grid(table)) == []


def test_the_shared_k_is_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CTM_RESEARCH_K", "20")
    assert suppress([[15, 30]]).cells[0][0].text(20) == "<20"


breakdowns = st.integers(1, 4).flatmap(
    lambda periods: st.lists(
        st.lists(st.lists(rare_or_common, min_size=periods, max_size=periods), min_size=1, max_size=3),
        min_size=2,
        max_size=3,
    )
)


@settings(max_examples=200, deadline=None)
@given(breakdowns)
def test_breakdowns_of_the_same_cases_withhold_the_same_totals(columns_of_tables: list[list[list[int]]]) -> None:
    # Each table: periods as rows, its own values as columns; every table's rows add up to the same cases.
    periods = len(columns_of_tables[0][0])
    first = [[column[i] for column in columns_of_tables[0]] for i in range(periods)]
    cases = [sum(row) for row in first]
    tables = [first]
    for columns in columns_of_tables[1:]:  # the same per-period totals, split another way: the rest in one column
        rows = [[min(column[i], cases[i]) for column in columns] for i in range(periods)]
        for i, row in enumerate(rows):
            spare = cases[i] - sum(row)
            while spare < 0:
                j = max(range(len(row)), key=row.__getitem__)
                cut = min(row[j], -spare)
                row[j] -= cut
                spare += cut
            row.append(spare)
        tables.append(rows)
    done = suppress_together(tables, K)
    assert len({tuple(shown.count for shown in table.row_totals) + (table.total.count,) for table in done}) == 1
    for table in done:
        assert recoverable(_grid(table)) == []


def values_each_could_take(grid: list[list[Shown]], truth: list[list[int]], k: int) -> dict[tuple[int, int], set[int]]:
    """What a reader can tell of each withheld entry, found by brute force (not by the module's arcs): every
    solution of the table's sums where a "<k" lies in 1..k-1 and an "x" in 0..(the largest true count + 1) —
    enough room for any move of one that the module's protection claims."""
    rows, columns = len(grid) - 1, len(grid[0]) - 1
    unknowns = [(i, j) for i in range(rows + 1) for j in range(columns + 1) if grid[i][j].count is None]
    ceiling = max(map(max, truth)) + 1
    domains = {u: range(1, k) if grid[u[0]][u[1]].withheld == PRIMARY else range(ceiling + 1) for u in unknowns}
    lines = [[(i, j) for j in range(columns + 1)] for i in range(rows + 1)]
    lines += [[(i, j) for i in range(rows + 1)] for j in range(columns + 1)]
    taken: dict[tuple[int, int], set[int]] = {u: set() for u in unknowns}
    value: dict[tuple[int, int], int] = {}

    def balanced(line: list[tuple[int, int]]) -> bool | None:
        """The line's inner entries add up to its total: True, False, or None while one is unknown."""
        numbers = [value.get(e) if grid[e[0]][e[1]].count is None else grid[e[0]][e[1]].count for e in line]
        if any(n is None for n in numbers):
            return None
        return sum(numbers[:-1]) == numbers[-1]  # type: ignore[arg-type]

    def search(index: int) -> None:
        if index == len(unknowns):
            for u in unknowns:
                taken[u].add(value[u])
            return
        entry = unknowns[index]
        for candidate in domains[entry]:
            value[entry] = candidate
            if all(balanced(line) is not False for line in lines if entry in line):
                search(index + 1)
        del value[entry]

    search(0)
    return taken


small = st.integers(1, 3).flatmap(
    lambda columns: st.lists(st.lists(st.integers(0, 5), min_size=columns, max_size=columns), min_size=1, max_size=2)
)


@settings(max_examples=150, deadline=None)
@given(small)
def test_no_withheld_number_is_pinned_by_the_bounds_a_reader_knows(counts: list[list[int]]) -> None:
    """A "<3" is 1 or 2 and an "x" at least 0: with that, still no withheld number has only one possible value
    (unless its own bounds leave it one: none at k = 3), and one not at its bounds can go both ways."""
    k = 3
    table = suppress(counts, k)
    grid, truth = _grid(table), _true_grid(counts)
    possible = values_each_could_take(grid, truth, k)
    if table.disclosive:  # the caller publishes nothing of it; it must be so for a reason
        assert any(len(values) == 1 for values in possible.values())
        return
    for (i, j), values in possible.items():
        true = truth[i][j]
        assert true in values
        assert len(values) >= 2, ((i, j), true, values, [[s.text(k) for s in row] for row in grid])


@pytest.mark.parametrize(
    ("counts", "k"),
    [
        ([[10, 50, 30], [10, 60, 40]], 11),  # two "<11" under a published total of 20 would both be 10
        ([[1, 20]] * 11, 11),  # eleven "<11" under a total of 11 would all be 1
        ([[0, 2, 8], [8, 2, 4]], 3),  # two "<3" under a total of 4 would both be 2
    ],
)
def test_small_counts_at_their_bounds_are_not_pinned_by_a_total(counts: list[list[int]], k: int) -> None:
    table = suppress(counts, k)
    column = [row[0] for row in table.cells] if k == 11 and len(counts) == 11 else None
    if column is not None:
        assert table.column_totals[0].count is None or any(shown.count is None for shown in table.cells[0][1:])
    grid = _grid(table)
    for i, row in enumerate(grid):
        for j, shown in enumerate(row):
            if shown.withheld == PRIMARY:
                line = [grid[i][c] for c in range(len(row))]
                # the entry's row: a published total with only "<k" withheld in it would bound each of them
                others = [s for c, s in enumerate(line) if c != j and s.count is None]
                assert any(s.withheld == SECONDARY for s in others) or line[-1].count is None or j == len(row) - 1


def test_ten_periods_of_one_case_each_are_too_few_to_show() -> None:
    # Ten "<11" under a "<11" total: the total is at most 10, so every period holds exactly one case.
    assert suppress([[1]] * 10, K).disclosive
    # Three are not: the total could be 3 to 10, each period 1 to 8.
    assert not suppress([[1]] * 3, K).disclosive
