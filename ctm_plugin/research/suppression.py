"""Small-cell suppression of a table of counts: what a role without microdata may be shown.

A table is a grid of counts (rows × columns, one row for a one-way table) with its row totals, column totals
and grand total. **Primary suppression**: every count from 1 to k − 1, cell or total, is withheld and shown as
"<k"; 0 is shown as 0 (an empty category says nothing of a person). **Secondary suppression**: a withheld count
must not be recoverable by subtraction from what is published.

Why the cycle rule is the right one: every published number is an arc of a network (a directed graph), and
every linear relation a reader knows among them is conservation at a vertex: what flows in is what flows out.
A table with its totals is one: a row total flows from a source S0 into its row, a cell from its row into its
column, a column total from its column into a sink S1, and the grand total from S1 back to S0 (in the grid
with the totals as a last row and column, that is flipping the sign of each total). The tables consistent with
the published numbers are then the flows of that network, and a withheld number is fixed by the published ones
exactly when it lies on no cycle of the (undirected) graph of withheld arcs: the relations' null space is that
graph's cycle space. So a withheld number that is a **bridge** of that graph can be worked out; one on a cycle
cannot.

**Quarters and years** (:func:`suppress_hierarchy`): the counts by quarter and the same counts added up by year
are one network, so both views come from one pattern and neither can be subtracted from the other: S0 → year
Y (its total T_Y) → quarter q of Y (its total t_q) → a vertex (Y, v) (the quarter's cell x_qv for the value v)
→ the value v (the year's cell X_Yv) → S1 (the column total c_v), and S1 → S0 (the grand total). Each number is
in exactly two conservation equations, once flowing in, once out: at Y the quarters' totals add up to T_Y, at
q the quarter's cells to t_q, at (Y, v) the quarters' cells to the year's, at v the years' cells to c_v; that a
year's cells add up to T_Y, or the quarters' cells of v to c_v, follows (a cut, not a vertex). The network has
exactly as many independent flows as there are quarter cells, which determine everything: so its flows are
exactly the tables a reader could believe.

**Bounds.** A reader knows more than the sums: a "<k" count lies between 1 and k − 1, an "x" is at least 0.
Two "<11" cells under a published total of 20 are both 10, though neither is a bridge. So a cycle protects a
withheld number only if moving one unit around it keeps every number within what the reader knows: a
withheld number that may go one up is an arc from its tail to its head, one that may go one down an arc back,
and the number itself moves when a **directed** cycle of such arcs goes through it. Conversely, if a number can
take another value at all, the difference of the two tables is a flow that splits into directed cycles going
the same way as it, and one unit around the one through the number is another table a reader must believe:
so "a directed cycle each way its bounds allow" is exactly "at least two values, three away from its bounds".

**Secondary suppression** withholds more numbers until every withheld one can move both ways its own bounds
allow, each time along the cheapest path of published numbers that closes such a cycle: non-zero counts before
zeros, inner cells before totals, quarter cells before year cells (the years are the more read), then the
smallest counts. Where even withholding everything would not give a way, it stops, and the table is flagged as
too small to show (:attr:`SuppressedTable.disclosive`).

This protects each table on its own against recovery through its own totals (for a hierarchy, both views),
and tables that share their row totals together (:func:`suppress_hierarchy_together`); rows that must be
withheld whole from the start are protected as any other withheld number (:func:`suppress_hierarchy`). It
knows nothing of other tables or of other releases: services/trends.py offers only views that cannot be
differenced against each other (every table over the reader's whole scope, no nested filters; the years and the
quarters from one pattern; each year's block suppressed once from counts frozen when it was released), and its
docstring says why.
"""

from __future__ import annotations

import heapq
import itertools
from collections import deque
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


def suppress(counts: Sequence[Sequence[int]], k: int | None = None) -> SuppressedTable:
    """``counts`` (a non-empty list of rows of equal, non-zero length) with primary and secondary suppression
    at ``k`` (default: :func:`ctm_plugin.research.small_cell_k`): the plain grid, on which this module's
    tests check the cycle rule against exact elimination and brute force (the trends publish hierarchies)."""
    return _suppressed(counts, None, small_cell_k() if k is None else k, set())[0]


def suppress_hierarchy(
    counts: Sequence[Sequence[int]],
    groups: Sequence[Sequence[int]],
    k: int | None = None,
    withheld_rows: Collection[int] = (),
    withheld_groups: Collection[int] = (),
) -> tuple[SuppressedTable, SuppressedTable]:
    """``counts`` (rows: quarters, say) and the same counts with the rows of each of ``groups`` added up (rows:
    years; each group a list of row indexes, every row in one group), suppressed as one table so that both may
    be published: the fine table and the coarse one, from one pattern (the module's docstring).

    ``withheld_rows`` (fine row indexes) and ``withheld_groups`` (group indexes) are withheld whole, every cell
    and the total, from the start, and protected as any other withheld number: a breakdown where a case may
    count under several values withholds the periods whose cases are withheld (services/trends.py)."""
    held: set[_Key] = {(ROW_TOTAL, i) for i in withheld_rows} | {(GROUP_TOTAL, g) for g in withheld_groups}
    columns = range(len(counts[0])) if counts else range(0)
    held |= {(CELL, i, j) for i in withheld_rows for j in columns}
    held |= {(GROUP_CELL, g, j) for g in withheld_groups for j in columns}
    fine, coarse, _shared = _suppressed(counts, groups, small_cell_k() if k is None else k, held)
    return _both(fine, coarse)


def suppress_hierarchy_together(
    tables: Sequence[Sequence[Sequence[int]]], groups: Sequence[Sequence[int]], k: int | None = None
) -> list[tuple[SuppressedTable, SuppressedTable]]:
    """Tables of the same rows whose fine rows' totals, groups' totals and grand total are the same numbers (the
    same cases, broken down by different single-valued dimensions), each suppressed as :func:`suppress_hierarchy`
    so that all of them withhold the same totals: the union of what each withholds, until no table withholds one
    more (it only grows, so it ends)."""
    k = small_cell_k() if k is None else k
    return [_both(fine, coarse) for fine, coarse in _together(tables, groups, k)]


def _both(fine: SuppressedTable, coarse: SuppressedTable | None) -> tuple[SuppressedTable, SuppressedTable]:
    assert coarse is not None, "a hierarchy has its coarse table"
    return fine, coarse


def _together(
    tables: Sequence[Sequence[Sequence[int]]], groups: Sequence[Sequence[int]], k: int
) -> list[tuple[SuppressedTable, SuppressedTable | None]]:
    held: set[_Key] = set()
    while True:
        done = [_suppressed(counts, groups, k, held) for counts in tables]
        now = held.union(*(shared for _fine, _coarse, shared in done))
        if now == held:
            return [(fine, coarse) for fine, coarse, _shared in done]
        held = now


_Key = tuple[str | int, ...]
_Vertex = tuple[str | int, ...]
_Cost = tuple[int, int, int, int]
CELL, GROUP_CELL, ROW_TOTAL, GROUP_TOTAL, COLUMN_TOTAL, TOTAL = "cell", "group cell", "row", "group", "column", "total"
SHARED = (ROW_TOTAL, GROUP_TOTAL, TOTAL)
"""The totals that tables of the same cases share (:func:`suppress_hierarchy_together`)."""
UP, DOWN = 1, -1


@dataclass(frozen=True)
class _Arc:
    """A published number as the network's arc: it flows from ``tail`` to ``head``."""

    tail: _Vertex
    head: _Vertex
    count: int
    cost: _Cost
    """What withholding it costs, in this order: whether it is 0 (shown as 0 whenever possible), whether it is a
    total (published as widely as possible), whether it is a coarse (year) cell (the more read view), then its
    count (the least information lost)."""


def _arcs(counts: Sequence[Sequence[int]], groups: Sequence[Sequence[int]] | None) -> dict[_Key, _Arc]:
    """The table as a network (the module's docstring): the grid when ``groups`` is ``None``, else the
    hierarchy; every number keyed by what it is (:data:`CELL` and the row and column, ...)."""
    rows, columns = len(counts), len(counts[0]) if counts else 0
    if rows == 0 or columns == 0 or any(len(row) != columns for row in counts):
        raise ValueError("a table needs rows of one non-zero length")
    if any(count < 0 for row in counts for count in row):
        raise ValueError("counts are never negative")
    if groups is not None and sorted(i for group in groups for i in group) != list(range(rows)):
        raise ValueError("every row is in exactly one group")
    source, sink = ("source",), ("sink",)

    def arc(tail: _Vertex, head: _Vertex, count: int, total: bool, coarse: bool = False) -> _Arc:
        return _Arc(tail, head, count, (int(count == 0), int(total), int(coarse), count))

    found: dict[_Key, _Arc] = {}
    for group, members in enumerate(groups or [[i] for i in range(rows)]):
        if groups is not None:
            count = sum(sum(counts[i]) for i in members)
            found[(GROUP_TOTAL, group)] = arc(source, ("group", group), count, True, True)
        for i in members:
            found[(ROW_TOTAL, i)] = arc(
                ("group", group) if groups is not None else source, ("row", i), sum(counts[i]), True
            )
            for j in range(columns):
                head = ("node", group, j) if groups is not None else ("column", j)
                found[(CELL, i, j)] = arc(("row", i), head, counts[i][j], False)
        if groups is not None:
            for j in range(columns):
                count = sum(counts[i][j] for i in members)
                found[(GROUP_CELL, group, j)] = arc(("node", group, j), ("column", j), count, False, True)
    for j in range(columns):
        found[(COLUMN_TOTAL, j)] = arc(("column", j), sink, sum(counts[i][j] for i in range(rows)), True)
    found[(TOTAL,)] = arc(sink, source, sum(map(sum, counts)), True)
    return found


def _suppressed(
    counts: Sequence[Sequence[int]], groups: Sequence[Sequence[int]] | None, k: int, held: Collection[_Key]
) -> tuple[SuppressedTable, SuppressedTable | None, set[_Key]]:
    """The fine table, the coarse one (``None`` without ``groups``) and the shared totals withheld."""
    arcs = _arcs(counts, groups)
    withheld = {key: PRIMARY for key, arc in arcs.items() if 0 < arc.count < k}
    for key in held:
        if key in arcs:
            withheld.setdefault(key, SECONDARY)
    network = _Network(arcs, withheld, k)
    disclosive = network.protect()

    def shown(*key: str | int) -> Shown:
        why = withheld.get(key)
        return Shown(None, why) if why else Shown(arcs[key].count)

    columns = range(len(counts[0]))

    def table(cell: str, total: str, rows: int) -> SuppressedTable:
        return SuppressedTable(
            k=k,
            cells=tuple(tuple(shown(cell, i, j) for j in columns) for i in range(rows)),
            row_totals=tuple(shown(total, i) for i in range(rows)),
            column_totals=tuple(shown(COLUMN_TOTAL, j) for j in columns),
            total=shown(TOTAL),
            disclosive=disclosive,
        )

    coarse = None if groups is None else table(GROUP_CELL, GROUP_TOTAL, len(groups))
    return table(CELL, ROW_TOTAL, len(counts)), coarse, {key for key in withheld if key[0] in SHARED}


class _Network:
    """The published numbers as the reader sees them: each withheld one an arc from its tail to its head where
    it may go one up, and from its head to its tail where it may go one down (the module's docstring)."""

    def __init__(self, arcs: dict[_Key, _Arc], withheld: dict[_Key, str], k: int):
        self.arcs, self.withheld, self.k = arcs, withheld, k
        self.out: dict[_Vertex, list[_Key]] = {}
        self.into: dict[_Vertex, list[_Key]] = {}
        for key, arc in arcs.items():
            self.out.setdefault(arc.tail, []).append(key)
            self.into.setdefault(arc.head, []).append(key)

    def protect(self) -> bool:
        """Withhold more (as :data:`SECONDARY`) until every withheld number can move each way its bounds allow,
        or cannot even with everything withheld; whether one cannot move at all (the table is disclosive).

        Withholding only adds ways, so a number once protected stays so: each is checked once, in turn."""
        beyond: set[tuple[_Key, int]] = set()
        pending = deque(key for key in self.arcs if key in self.withheld)
        while pending:
            entry = pending.popleft()
            for direction, allowed in zip((UP, DOWN), self._moves(entry, True), strict=True):
                if not allowed or self._reaches(entry, direction):
                    continue
                added = self._complement(entry, direction)
                if added is None:
                    beyond.add((entry, direction))  # no way even through every published number
                for other in added or ():
                    self.withheld[other] = SECONDARY
                    pending.append(other)
        return any(self._pinned(entry, beyond) for entry in self.withheld)

    def _moves(self, entry: _Key, withheld: bool) -> tuple[bool, bool]:
        """Whether ``entry``, withheld (or were it withheld, as an "x"), may go one up and one down within what
        a reader knows of it."""
        count = self.arcs[entry].count
        low, high = (1, self.k - 1) if withheld and self.withheld.get(entry) == PRIMARY else (0, None)
        return high is None or count + 1 <= high, count - 1 >= low

    def _ways(self, vertex: _Vertex, free: bool) -> list[tuple[_Vertex, _Key]]:
        """Where one can go from ``vertex`` through withheld numbers (any number with ``free``), and through
        which: on along an arc that may go up, back along one that may go down."""
        found = []
        for key in self.out.get(vertex, ()):
            held = key in self.withheld
            if (held or free) and self._moves(key, held)[0]:
                found.append((self.arcs[key].head, key))
        for key in self.into.get(vertex, ()):
            held = key in self.withheld
            if (held or free) and self._moves(key, held)[1]:
                found.append((self.arcs[key].tail, key))
        return found

    def _ends(self, entry: _Key, direction: int) -> tuple[_Vertex, _Vertex]:
        """Where a path must go for ``entry`` to move in ``direction``, without it: from its head back to its
        tail (up) or from its tail on to its head (down)."""
        arc = self.arcs[entry]
        return (arc.head, arc.tail) if direction == UP else (arc.tail, arc.head)

    def _pinned(self, entry: _Key, beyond: set[tuple[_Key, int]]) -> bool:
        """Whether ``entry`` cannot move either way its bounds allow (each given up as beyond reach)."""
        allowed = [direction for direction, ok in zip((UP, DOWN), self._moves(entry, True), strict=True) if ok]
        return bool(allowed) and all((entry, direction) in beyond for direction in allowed)

    def _reaches(self, entry: _Key, direction: int) -> bool:
        start, goal = self._ends(entry, direction)
        seen, stack = {start}, [start]
        while stack:
            for other, via in self._ways(stack.pop(), free=False):
                if via != entry and other not in seen:
                    if other == goal:
                        return True
                    seen.add(other)
                    stack.append(other)
        return False

    def _complement(self, entry: _Key, direction: int) -> list[_Key] | None:
        """The published numbers to withhold so that ``entry`` may move in ``direction``: the cheapest path
        (Dijkstra; a withheld number costs nothing, a published one its :attr:`_Arc.cost`), ``None`` if there is
        none."""
        start, goal = self._ends(entry, direction)
        nothing: _Cost = (0, 0, 0, 0)
        best: dict[_Vertex, _Cost] = {start: nothing}
        back: dict[_Vertex, tuple[_Vertex, _Key]] = {}
        queue: list[tuple[_Cost, int, _Vertex]] = [(nothing, 0, start)]
        order = itertools.count(1)
        done: set[_Vertex] = set()
        while queue:
            cost, _order, vertex = heapq.heappop(queue)
            if vertex in done:
                continue
            done.add(vertex)
            if vertex == goal:
                path = []
                while vertex != start:
                    vertex, via = back[vertex]
                    path.append(via)
                return [via for via in reversed(path) if via not in self.withheld]
            for other, via in self._ways(vertex, free=True):
                if via == entry:
                    continue
                extra = nothing if via in self.withheld else self.arcs[via].cost
                total = (cost[0] + extra[0], cost[1] + extra[1], cost[2] + extra[2], cost[3] + extra[3])
                if other not in best or total < best[other]:
                    best[other], back[other] = total, (vertex, via)
                    heapq.heappush(queue, (total, next(order), other))
        return None
