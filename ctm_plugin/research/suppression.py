"""Small-cell suppression of a table of counts: what a role without microdata may be shown.

A table is a grid of counts (rows × columns, one row for a one-way table) with its row totals, column totals
and grand total. **Primary suppression**: every count from 1 to k − 1, cell or total, is withheld and shown as
"<k"; 0 is shown as 0 (an empty category says nothing of a person). **Secondary suppression**: a withheld count
must not be recoverable by subtraction from what is published.

Why the cycle rule is the right one: put the totals into the grid as a last row and a last column, and flip the
sign of each total (the grand total twice). Every row and every column of that (R+1) × (C+1) grid then sums to
zero, and these are all the linear relations among the numbers. The withheld entries are the unknowns; an
unknown is fixed by the published numbers exactly when it lies on no cycle of the bipartite graph whose vertices
are the rows and columns and whose edges are the withheld entries (the relations' null space is that graph's
cycle space). So a withheld entry that is a **bridge** of that graph can be worked out; one on a cycle cannot.
Secondary suppression withholds more entries until no withheld entry is a bridge: for each bridge, the
cheapest path of published entries that closes a cycle through it (non-zero counts before zeros, inner cells
before totals, then the smallest counts).

This protects each table on its own against exact recovery through its own totals. It knows nothing of other
tables: services/trends.py keeps each page's tables from being differenced against each other (its docstring).
"""

from __future__ import annotations

import heapq
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from . import small_cell_k

PRIMARY = "primary"
"""Withheld because the count is below k: shown as "<k"."""
SECONDARY = "secondary"
"""Withheld so that a small count cannot be worked out by subtraction: shown as withheld, not as "<k" (it is
not necessarily small)."""


@dataclass(frozen=True)
class Shown:
    """One published number: the count, or ``None`` when withheld, and why."""

    count: int | None
    withheld: str | None = None

    def text(self, k: int) -> str:
        """What a reader sees: the count, "<k" for a small count, "x" for one withheld to protect another."""
        if self.withheld == PRIMARY:
            return f"<{k}"
        if self.withheld == SECONDARY:
            return "x"
        return str(self.count)


@dataclass(frozen=True)
class SuppressedTable:
    """A table as it may be published: the same shape as the counts, every number a :class:`Shown`."""

    k: int
    cells: tuple[tuple[Shown, ...], ...]
    row_totals: tuple[Shown, ...]
    column_totals: tuple[Shown, ...]
    total: Shown


def suppress(
    counts: Sequence[Sequence[int]],
    k: int | None = None,
    withheld_row_totals: Collection[int] = (),
    withhold_total: bool = False,
) -> SuppressedTable:
    """``counts`` (a non-empty list of rows of equal, non-zero length) with primary and secondary suppression
    at ``k`` (default: :func:`ctm_plugin.research.small_cell_k`).

    ``withheld_row_totals`` (row indexes) and ``withhold_total`` withhold those totals from the start: tables
    that share their row totals (several breakdowns of the same cases by period) must withhold the same ones,
    or one table's published total would open another's (:func:`suppress_together`)."""
    k = small_cell_k() if k is None else k
    rows, columns = len(counts), len(counts[0])
    if rows == 0 or columns == 0 or any(len(row) != columns for row in counts):
        raise ValueError("a table needs rows of one non-zero length")
    if any(count < 0 for row in counts for count in row):
        raise ValueError("counts are never negative")
    grid = [[*row, sum(row)] for row in counts]
    grid.append([sum(counts[i][j] for i in range(rows)) for j in range(columns)] + [sum(map(sum, counts))])
    withheld: dict[tuple[int, int], str] = {
        (i, j): PRIMARY for i, row in enumerate(grid) for j, count in enumerate(row) if 0 < count < k
    }
    for i in withheld_row_totals:
        withheld.setdefault((i, columns), SECONDARY)
    if withhold_total:
        withheld.setdefault((rows, columns), SECONDARY)
    while (bridge := _a_bridge(withheld, rows + 1, columns + 1)) is not None:
        for entry in _complement(grid, withheld, bridge, rows, columns):
            withheld[entry] = SECONDARY

    def shown(i: int, j: int) -> Shown:
        why = withheld.get((i, j))
        return Shown(None, why) if why else Shown(grid[i][j])

    return SuppressedTable(
        k=k,
        cells=tuple(tuple(shown(i, j) for j in range(columns)) for i in range(rows)),
        row_totals=tuple(shown(i, columns) for i in range(rows)),
        column_totals=tuple(shown(rows, j) for j in range(columns)),
        total=shown(rows, columns),
    )


def suppress_together(tables: Sequence[Sequence[Sequence[int]]], k: int | None = None) -> list[SuppressedTable]:
    """Tables of the same rows whose row totals and grand total are the same numbers (the same cases, broken
    down by different single-valued dimensions), each suppressed so that all of them withhold the same totals:
    the union of what each withholds, until no table withholds one more (it only grows, so it ends)."""
    k = small_cell_k() if k is None else k
    rows: set[int] = set()
    total = False
    while True:
        done = [suppress(counts, k, rows, total) for counts in tables]
        now = {i for table in done for i, shown in enumerate(table.row_totals) if shown.count is None}
        now_total = any(table.total.count is None for table in done)
        if now == rows and now_total == total:
            return done
        rows, total = rows | now, total or now_total


def _a_bridge(withheld: dict[tuple[int, int], str], rows: int, columns: int) -> tuple[int, int] | None:
    """A withheld entry on no cycle of the withheld entries' graph (rows and columns as vertices), if any:
    Tarjan's low-link search, iterative (a table may have more rows than Python's recursion allows)."""
    neighbours: dict[int, list[tuple[int, tuple[int, int]]]] = {}
    for i, j in withheld:
        neighbours.setdefault(i, []).append((rows + j, (i, j)))
        neighbours.setdefault(rows + j, []).append((i, (i, j)))
    order: dict[int, int] = {}
    low: dict[int, int] = {}
    for root in sorted(neighbours):
        if root in order:
            continue
        order[root] = low[root] = len(order)
        stack: list[tuple[int, tuple[int, int] | None, int]] = [(root, None, 0)]
        while stack:
            vertex, via, index = stack[-1]
            edges = neighbours[vertex]
            if index < len(edges):
                stack[-1] = (vertex, via, index + 1)
                other, edge = edges[index]
                if edge == via:
                    continue
                if other in order:
                    low[vertex] = min(low[vertex], order[other])
                else:
                    order[other] = low[other] = len(order)
                    stack.append((other, edge, 0))
                continue
            stack.pop()
            if stack:
                parent = stack[-1][0]
                low[parent] = min(low[parent], low[vertex])
                if low[vertex] > order[parent]:
                    assert via is not None
                    return via
    return None


_Cost = tuple[int, int, int]


def _complement(
    grid: list[list[int]], withheld: dict[tuple[int, int], str], bridge: tuple[int, int], rows: int, columns: int
) -> list[tuple[int, int]]:
    """The published entries to withhold so that ``bridge`` lies on a cycle: the cheapest path from its row to
    its column through the grid, other than itself (Dijkstra). A withheld entry costs nothing; a published one
    costs, in this order, whether it is 0 (shown as 0 whenever possible), whether it is a total (a total is
    published as widely as possible), then its count (the least information lost)."""
    height, width = rows + 1, columns + 1
    start, goal = bridge[0], height + bridge[1]

    def step(entry: tuple[int, int]) -> _Cost:
        if entry in withheld:
            return (0, 0, 0)
        count = grid[entry[0]][entry[1]]
        return (int(count == 0), int(entry[0] == rows or entry[1] == columns), count)

    best: dict[int, _Cost] = {start: (0, 0, 0)}
    back: dict[int, int] = {}
    queue: list[tuple[_Cost, int]] = [((0, 0, 0), start)]
    done: set[int] = set()
    while queue:
        cost, vertex = heapq.heappop(queue)
        if vertex in done:
            continue
        done.add(vertex)
        if vertex == goal:
            break
        others = range(height, height + width) if vertex < height else range(height)
        for other in others:
            entry = (vertex, other - height) if vertex < height else (other, vertex - height)
            if entry == bridge:
                continue
            extra = step(entry)
            total = (cost[0] + extra[0], cost[1] + extra[1], cost[2] + extra[2])
            if other not in best or total < best[other]:
                best[other], back[other] = total, vertex
                heapq.heappush(queue, (total, other))
    path: list[tuple[int, int]] = []
    vertex = goal
    while vertex != start:
        previous = back[vertex]
        path.append((previous, vertex - height) if previous < height else (vertex, previous - height))
        vertex = previous
    return [entry for entry in path if entry not in withheld]
