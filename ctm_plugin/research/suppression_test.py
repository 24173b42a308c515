"""Small-cell suppression: no published number below k, and no withheld number recoverable from the published
ones by solving the table's equations (checked here by exact elimination, not by the module's cycle rule)."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ctm_plugin.research.suppression import (
    PRIMARY,
    SECONDARY,
    Shown,
    SuppressedTable,
    suppress,
    suppress_hierarchy,
    suppress_hierarchy_together,
)

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


def _numbers(fine: SuppressedTable, coarse: SuppressedTable) -> dict[tuple[str | int, ...], Shown]:
    """Every published number of the two views by what it is: a quarter's cell and total, a year's, a column's."""
    found: dict[tuple[str | int, ...], Shown] = {("total",): fine.total}
    for j, shown in enumerate(fine.column_totals):
        found[("column", j)] = shown
    for cell, total, table in (("cell", "row", fine), ("group cell", "group", coarse)):
        for i, (row, row_total) in enumerate(zip(table.cells, table.row_totals, strict=True)):
            found[(total, i)] = row_total
            for j, shown in enumerate(row):
                found[(cell, i, j)] = shown
    return found


def _true_numbers(counts: list[list[int]], groups: list[list[int]]) -> dict[tuple[str | int, ...], int]:
    found: dict[tuple[str | int, ...], int] = {("total",): sum(map(sum, counts))}
    for j, column in enumerate(zip(*counts, strict=True)):
        found[("column", j)] = sum(column)
    for i, row in enumerate(counts):
        found[("row", i)] = sum(row)
        found.update({("cell", i, j): count for j, count in enumerate(row)})
    for g, members in enumerate(groups):
        found[("group", g)] = sum(sum(counts[i]) for i in members)
        for j in range(len(counts[0])):
            found[("group cell", g, j)] = sum(counts[i][j] for i in members)
    return found


def values_each_could_take_in_both_views(
    numbers: dict[tuple[str | int, ...], Shown],
    truth: dict[tuple[str | int, ...], int],
    groups: list[list[int]],
    k: int,
) -> dict[tuple[str | int, ...], set[int]]:
    """By brute force, the values of every withheld number over every table of quarter cells (non-negative
    integers) consistent with every number published in either view, a "<k" being 1..k-1 and an "x" at least 0.
    A quarter cell ranges up to the least published or "<k" number it adds to, and to the largest true quarter
    cell + 1: room for any move of one that the module's protection claims."""
    rows = 1 + max(key[1] for key in numbers if key[0] == "row")  # type: ignore[type-var]
    columns = 1 + max(key[1] for key in numbers if key[0] == "column")  # type: ignore[type-var]
    group_of = {i: g for g, members in enumerate(groups) for i in members}
    ceiling = max(count for key, count in truth.items() if key[0] == "cell") + 1
    unbounded = sum(truth.values()) + 1

    def bounds(key: tuple[str | int, ...]) -> tuple[int, int]:
        shown = numbers[key]
        if shown.count is not None:
            return shown.count, shown.count
        return (1, k - 1) if shown.withheld == PRIMARY else (0, unbounded)

    def containing(i: int, j: int) -> list[tuple[str | int, ...]]:
        return [("row", i), ("group cell", group_of[i], j), ("group", group_of[i]), ("column", j), ("total",)]

    cells = [(i, j) for i in range(rows) for j in range(columns)]
    withheld = [key for key, shown in numbers.items() if shown.count is None]
    taken: dict[tuple[str | int, ...], set[int]] = {key: set() for key in withheld}
    sums: dict[tuple[str | int, ...], int] = dict.fromkeys(numbers, 0)

    def complete(key: tuple[str | int, ...], i: int, j: int) -> bool:
        """Whether ``key`` has all its quarter cells once cell (i, j) is set."""
        last_row = max(groups[key[1]]) if key[0] in ("group", "group cell") else rows - 1  # type: ignore[index]
        last = {"row": j == columns - 1, "group cell": i == last_row, "group": i == last_row and j == columns - 1}
        return last.get(str(key[0]), i == rows - 1 and (key[0] == "column" or j == columns - 1))

    def search(index: int) -> None:
        if index == len(cells):
            for key in withheld:
                taken[key].add(sums[key])
            return
        i, j = cells[index]
        keys = [("cell", i, j), *containing(i, j)]
        low, high = bounds(keys[0])
        if numbers[keys[0]].count is None and numbers[keys[0]].withheld != PRIMARY:
            high = min([ceiling] + [bounds(key)[1] - sums[key] for key in keys[1:]])
        for value in range(low, high + 1):
            for key in keys:
                sums[key] += value
            if all(
                sums[key] <= bounds(key)[1] and (not complete(key, i, j) or bounds(key)[0] <= sums[key])
                for key in keys[1:]
            ):
                search(index + 1)
            for key in keys:
                sums[key] -= value

    search(0)
    return taken


hierarchies = st.tuples(
    st.sampled_from([[[0, 1], [2, 3]], [[0], [1, 2]], [[0, 1]], [[0], [1]]]), st.integers(2, 3), st.data()
)


@settings(max_examples=60, deadline=None)
@given(hierarchies)
def test_no_withheld_number_of_either_view_has_one_value_a_reader_can_work_out(
    drawn: tuple[list[list[int]], int, st.DataObject],
) -> None:
    """Quarters grouped into years, both views published from one pattern: with everything either view shows
    and the bounds a reader knows, every withheld number (quarter, year or total) still has two or more values,
    and the table is flagged as disclosive exactly when one has not."""
    groups, columns, data = drawn
    rows = 1 + max(max(members) for members in groups)
    count = st.one_of(st.integers(0, 3), st.integers(0, 12))
    counts = data.draw(st.lists(st.lists(count, min_size=columns, max_size=columns), min_size=rows, max_size=rows))
    k = 3
    fine, coarse = suppress_hierarchy(counts, groups, k)
    numbers, truth = _numbers(fine, coarse), _true_numbers(counts, groups)
    for key, shown in numbers.items():
        if shown.count is None:
            assert shown.withheld == SECONDARY or 0 < truth[key] < k
        else:
            assert shown.count == truth[key] and not 0 < shown.count < k
    possible = values_each_could_take_in_both_views(numbers, truth, groups, k)
    assert all(truth[key] in values for key, values in possible.items())
    pinned = [key for key, values in possible.items() if len(values) < 2]
    assert fine.disclosive == coarse.disclosive == bool(pinned), (pinned, counts, groups)


def test_a_year_is_shown_when_its_quarters_are_small_but_it_is_not() -> None:
    # Each year has a quarter of 2 cases of one value: the quarters withhold it, the years need not.
    counts = [[2, 30], [12, 20], [14, 25], [2, 40]]
    fine, coarse = suppress_hierarchy(counts, [[0, 1], [2, 3]], K)
    assert fine.cells[0][0].text(K) == "<11" and fine.cells[3][0].text(K) == "<11"
    assert [[shown.text(K) for shown in row] for row in coarse.cells] == [["14", "50"], ["16", "65"]]
    assert [shown.text(K) for shown in coarse.row_totals] == ["64", "81"]
    assert numbers_recoverable(fine, coarse, counts, [[0, 1], [2, 3]]) == []


def numbers_recoverable(
    fine: SuppressedTable, coarse: SuppressedTable, counts: list[list[int]], groups: list[list[int]]
) -> list[tuple[str | int, ...]]:
    """The withheld numbers of either view that the published ones of both determine (exact elimination over
    the quarter cells, which determine everything else)."""
    numbers, columns = _numbers(fine, coarse), len(counts[0])
    cells = [(i, j) for i in range(len(counts)) for j in range(columns)]

    def parts(key: tuple[str | int, ...]) -> list[Fraction]:
        inside = {
            "cell": lambda i, j: (i, j) == key[1:],
            "row": lambda i, j: i == key[1],
            "group cell": lambda i, j: i in groups[key[1]] and j == key[2],  # type: ignore[index]
            "group": lambda i, j: i in groups[key[1]],  # type: ignore[index]
            "column": lambda i, j: j == key[1],
            "total": lambda i, j: True,
        }[str(key[0])]
        return [Fraction(int(inside(i, j))) for i, j in cells]

    published = [parts(key) for key, shown in numbers.items() if shown.count is not None]
    base = _rank(published) if published else 0
    return [key for key, shown in numbers.items() if shown.count is None and _rank([*published, parts(key)]) == base]


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 4), st.integers(1, 3), st.data())
def test_breakdowns_by_quarter_and_year_withhold_the_same_totals(years: int, columns: int, data: st.DataObject) -> None:
    groups = [[4 * y + q for q in range(4)] for y in range(years)]
    first = data.draw(
        st.lists(st.lists(rare_or_common, min_size=columns, max_size=columns), min_size=4 * years, max_size=4 * years)
    )
    # the same cases by another dimension: all in one value, or the first value against the rest
    tables = [first, [[sum(row)] for row in first], [[row[0], sum(row) - row[0]] for row in first]]
    done = suppress_hierarchy_together(tables, groups, K)
    shared = {
        (tuple(s.count for s in fine.row_totals), tuple(s.count for s in coarse.row_totals), fine.total.count)
        for fine, coarse in done
    }
    assert len(shared) == 1
    for (fine, coarse), counts in zip(done, tables, strict=True):
        if not fine.disclosive:
            assert numbers_recoverable(fine, coarse, counts, groups) == []


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 3), st.data())
def test_rows_withheld_whole_from_the_start_are_protected_as_any_other(columns: int, data: st.DataObject) -> None:
    # a breakdown where a case has several values withholds whole the quarters (and the year) whose cases are
    groups = [[0, 1, 2, 3]]
    counts = data.draw(st.lists(st.lists(rare_or_common, min_size=columns, max_size=columns), min_size=4, max_size=4))
    rows = data.draw(st.lists(st.integers(0, 3), max_size=2, unique=True))
    year = data.draw(st.sampled_from([[], [0]]))
    fine, coarse = suppress_hierarchy(counts, groups, K, withheld_rows=rows, withheld_groups=year)
    for i in rows:
        assert all(shown.count is None for shown in (*fine.cells[i], fine.row_totals[i]))
    if year:
        assert all(shown.count is None for shown in (*coarse.cells[0], coarse.row_totals[0]))
    if not fine.disclosive:
        assert numbers_recoverable(fine, coarse, counts, groups) == []
