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

**Bounds.** A reader knows more than the sums: a "<k" count lies between 1 and k − 1, an "x" is at least 0.
Two "<11" cells under a published total of 20 are both 10, though neither is a bridge. So a cycle protects a
withheld entry only if moving along it keeps every entry within what the reader knows: the entry itself one up
(or one down), the cycle's other entries one down and one up in turn. In the grid with the totals' signs
flipped, such a cycle is a directed one: an entry that may go one up in that grid is an arc from its row to its
column, one that may go one down an arc back. Secondary suppression withholds more entries until every
withheld entry can move both ways its own bounds allow (at least two values, three away from its bounds),
each time along the cheapest path as above; where even withholding everything would not give a way, it stops.

This protects each table on its own against exact recovery through its own totals, and tables that share their
row totals together (:func:`suppress_together`). It knows nothing of other tables: services/trends.py offers
only views that cannot be differenced against each other (every table over the reader's whole scope, no nested
filters; the year view made from the quarter view's published numbers alone), and its docstring says why.
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
    disclosive: bool = False
    """Some withheld number has one value a reader can work out even with every number withheld (the table is
    too small to show: e.g. two cells of 1 under "<3" totals): publish nothing of it."""


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
    lines = _Lines(grid, withheld, rows, columns, k)
    beyond: set[tuple[tuple[int, int], int]] = set()
    while (need := lines.unprotected(beyond)) is not None:
        added = lines.complement(*need)
        if added is None:
            beyond.add(need)  # no way even through every published entry: as protected as it can be
        for entry in added or ():
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
        disclosive=any(lines.pinned(entry, beyond) for entry in withheld),
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


_Cost = tuple[int, int, int]
UP, DOWN = 1, -1


class _Lines:
    """The grid as the reader sees it: rows ``0..rows`` and columns ``0..columns`` (the totals last) as the
    vertices of a directed graph, each entry an arc from its row to its column where it may go one up in the
    sign-flipped grid, and back where it may go one down (the module's docstring)."""

    def __init__(self, grid: list[list[int]], withheld: dict[tuple[int, int], str], rows: int, columns: int, k: int):
        self.grid, self.withheld, self.rows, self.columns, self.k = grid, withheld, rows, columns, k
        self.height = rows + 1

    def _moves(self, entry: tuple[int, int], withheld: bool) -> tuple[bool, bool]:
        """Whether ``entry``, withheld (or were it withheld, as an "x"), may go one up and one down in the
        sign-flipped grid, within what a reader knows of it."""
        i, j = entry
        count = self.grid[i][j]
        low, high = (1, self.k - 1) if withheld and self.withheld.get(entry) == PRIMARY else (0, None)
        up, down = high is None or count + 1 <= high, count - 1 >= low
        return (down, up) if (i == self.rows) != (j == self.columns) else (up, down)  # a total's sign is flipped

    def _arcs(self, vertex: int, free: bool) -> list[tuple[int, tuple[int, int]]]:
        """The arcs out of ``vertex`` through withheld entries, or through any entry with ``free``."""
        found = []
        if vertex < self.height:
            for j in range(self.columns + 1):
                entry = (vertex, j)
                held = entry in self.withheld
                if (held or free) and self._moves(entry, held)[0]:
                    found.append((self.height + j, entry))
        else:
            j = vertex - self.height
            for i in range(self.height):
                entry = (i, j)
                held = entry in self.withheld
                if (held or free) and self._moves(entry, held)[1]:
                    found.append((i, entry))
        return found

    def _ends(self, entry: tuple[int, int], direction: int) -> tuple[int, int]:
        """Where a path must go for ``entry`` to move in ``direction``: back from its column to its row (up) or
        on from its row to its column (down), without it."""
        row, column = entry[0], self.height + entry[1]
        return (column, row) if direction == UP else (row, column)

    def unprotected(self, beyond: set[tuple[tuple[int, int], int]]) -> tuple[tuple[int, int], int] | None:
        """A withheld entry and a direction its bounds allow but no cycle of withheld entries does, if any."""
        for entry in sorted(self.withheld):
            up, down = self._moves(entry, True)
            for direction, allowed in ((UP, up), (DOWN, down)):
                if allowed and (entry, direction) not in beyond and not self._reaches(entry, direction):
                    return entry, direction
        return None

    def pinned(self, entry: tuple[int, int], beyond: set[tuple[tuple[int, int], int]]) -> bool:
        """Whether ``entry`` cannot move either way its bounds allow (each given up as beyond reach)."""
        up, down = self._moves(entry, True)
        allowed = [direction for direction, ok in ((UP, up), (DOWN, down)) if ok]
        return bool(allowed) and all((entry, direction) in beyond for direction in allowed)

    def _reaches(self, entry: tuple[int, int], direction: int) -> bool:
        start, goal = self._ends(entry, direction)
        seen, stack = {start}, [start]
        while stack:
            for other, via in self._arcs(stack.pop(), free=False):
                if via != entry and other not in seen:
                    if other == goal:
                        return True
                    seen.add(other)
                    stack.append(other)
        return False

    def complement(self, entry: tuple[int, int], direction: int) -> list[tuple[int, int]] | None:
        """The published entries to withhold so that ``entry`` may move in ``direction``: the cheapest path
        (Dijkstra), ``None`` if there is none. A withheld entry costs nothing; a published one costs, in this
        order, whether it is 0 (shown as 0 whenever possible), whether it is a total (a total is published as
        widely as possible), then its count (the least information lost)."""
        start, goal = self._ends(entry, direction)

        def step(via: tuple[int, int]) -> _Cost:
            if via in self.withheld:
                return (0, 0, 0)
            count = self.grid[via[0]][via[1]]
            return (int(count == 0), int(via[0] == self.rows or via[1] == self.columns), count)

        best: dict[int, _Cost] = {start: (0, 0, 0)}
        back: dict[int, tuple[int, tuple[int, int]]] = {}
        queue: list[tuple[_Cost, int]] = [((0, 0, 0), start)]
        done: set[int] = set()
        while queue:
            cost, vertex = heapq.heappop(queue)
            if vertex in done:
                continue
            done.add(vertex)
            if vertex == goal:
                path = []
                while vertex != start:
                    vertex, via = back[vertex]
                    path.append(via)
                return [via for via in path if via not in self.withheld]
            for other, via in self._arcs(vertex, free=True):
                if via == entry:
                    continue
                extra = step(via)
                total = (cost[0] + extra[0], cost[1] + extra[1], cost[2] + extra[2])
                if other not in best or total < best[other]:
                    best[other], back[other] = total, (vertex, via)
                    heapq.heappush(queue, (total, other))
        return None
