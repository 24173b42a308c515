"""k-anonymity of a research export: generalise, then suppress, until every combination of quasi-identifiers
occurs at least k times (DESIGN.md, "HQ scope"; data-standards.md §2.4: CTDC's k = 11).

Pure: no database, no request. The caller gives one tuple of quasi-identifiers per row and one
:class:`Hierarchy` per position; :func:`anonymise` answers which rows are kept and what their generalised
quasi-identifiers are, with a :class:`Report` of what was generalised and suppressed, or raises
:class:`CannotAnonymise` when only suppressing everything would do (then nothing is produced).

How: global recoding, greedily. Every attribute starts at its finest level; while more rows sit in classes
smaller than k than the suppression budget allows, the one attribute whose next level leaves the fewest such
rows is generalised one level (a tie goes to the attribute with the most levels left, so the coarse ones
stay finest longest). Then each attribute is taken back down while the budget still holds (the greedy path
may have climbed further than the end needs), and the rows still in classes smaller than k are suppressed.
An attribute at its top level is suppressed for every row; all of them at the top is "suppressing
everything". Generalising one attribute only merges classes, so the search ends, within the sum of the
hierarchies' heights, and each step works on the classes of the previous one, not on the rows: 200,000 rows
are a few thousand classes after the first step.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Final

from ctm_plugin.i18n import N_

from . import regions

SUPPRESSED: Final = "*"
"""The value of an attribute generalised to its top level: nothing of it is kept."""
DEFAULT_MAX_SUPPRESSED: Final = 0.05
"""The share of rows an export may suppress (rows in classes smaller than k) before it generalises further.
CTDC's 2017 release suppressed about 40% of its records, which distorts what the numbers say (data-standards.md
§2.4); a small budget generalises first."""

Value = str | None
Step = Callable[[str], str]


@dataclass(frozen=True)
class Hierarchy:
    """How one quasi-identifier generalises: its levels' names, finest first, and the step from each level to
    the next but the last (the last level is :data:`SUPPRESSED` for every row). A missing value (``None``)
    stays missing up to the top: it is a value of its own, which the top merges with the others."""

    name: str
    levels: tuple[str, ...]
    steps: tuple[Step, ...]

    def __post_init__(self) -> None:
        if len(self.steps) != len(self.levels) - 2:
            raise ValueError(f"{self.name}: one step between each two levels below the top")

    @property
    def top(self) -> int:
        return len(self.levels) - 1

    def lift(self, value: Value, level: int) -> Value:
        """The value one level up from ``value`` (which is at ``level``)."""
        if level + 1 >= self.top:
            return SUPPRESSED
        return None if value is None else self.steps[level](value)

    def at(self, value: Value, level: int) -> Value:
        """A finest-level value generalised to ``level``."""
        for below in range(level):
            value = self.lift(value, below)
        return value


@dataclass(frozen=True)
class Level:
    """What a report says of one quasi-identifier: the level its values were generalised to."""

    name: str
    level: int
    level_name: str
    top: int

    @property
    def generalised(self) -> bool:
        return self.level > 0

    @property
    def suppressed(self) -> bool:
        return self.level == self.top


@dataclass(frozen=True)
class Report:
    """What was generalised and suppressed to reach k: written with the export, shown to the requester and HQ."""

    k: int
    rows_in: int
    rows_out: int
    rows_suppressed: int
    classes: int
    smallest_class: int
    levels: tuple[Level, ...]


@dataclass(frozen=True)
class Anonymised:
    kept: list[int]
    """Positions of the input rows that are exported, in input order."""
    values: list[tuple[Value, ...]]
    """Their generalised quasi-identifiers, one tuple per kept row."""
    report: Report


class CannotAnonymise(Exception):
    """k cannot be reached short of suppressing everything: nothing is produced."""

    def __init__(self, reason: str, rows: int, k: int) -> None:
        super().__init__(reason)
        self.reason, self.rows, self.k = reason, rows, k


TOO_FEW = "fewer rows than k"
ONLY_EVERYTHING = "only suppressing every quasi-identifier"

Combination = tuple[Hashable, ...]


def anonymise(
    rows: Sequence[tuple[Value, ...]],
    hierarchies: Sequence[Hierarchy],
    k: int,
    max_suppressed: float = DEFAULT_MAX_SUPPRESSED,
    floor: Sequence[int] | None = None,
) -> Anonymised:
    """Generalise and suppress ``rows`` (one tuple of quasi-identifiers each, in the order of ``hierarchies``)
    until every exported combination occurs at least ``k`` times, suppressing at most ``max_suppressed`` of
    the rows; :class:`CannotAnonymise` when that takes suppressing everything. ``floor``: the level below which
    each quasi-identifier is not kept (a file released before generalised it so far: set side by side, two files
    generalised differently would give finer groups than either)."""
    if k < 1:
        raise ValueError("k is at least 1")
    width = len(hierarchies)
    if any(len(row) != width for row in rows):
        raise ValueError("one value per hierarchy in every row")
    if len(rows) < k:
        raise CannotAnonymise(TOO_FEW, len(rows), k)
    budget = int(len(rows) * max_suppressed)
    finest: Counter[Combination] = Counter(rows)
    least = [min(lv, h.top) for lv, h in zip(floor, hierarchies, strict=True)] if floor else [0] * width
    levels = list(least)
    if all(level == h.top for level, h in zip(levels, hierarchies, strict=True)):
        raise CannotAnonymise(ONLY_EVERYTHING, len(rows), k)
    classes = _regroup(finest, hierarchies, levels)
    while _small(classes, k) > budget:
        climbable = [i for i in range(width) if levels[i] < hierarchies[i].top]
        if not climbable:
            raise CannotAnonymise(ONLY_EVERYTHING, len(rows), k)
        tried = {i: _lifted(classes, hierarchies[i], i, levels[i]) for i in climbable}
        best = min(climbable, key=lambda i: (_small(tried[i], k), -(hierarchies[i].top - levels[i]), i))
        classes, levels[best] = tried[best], levels[best] + 1
        if all(level == h.top for level, h in zip(levels, hierarchies, strict=True)):
            raise CannotAnonymise(ONLY_EVERYTHING, len(rows), k)
    levels, classes = _descend(finest, hierarchies, levels, least, classes, k, budget)
    generalised = {combination: _at(combination, hierarchies, levels) for combination in finest}
    kept, values = [], []
    for position, row in enumerate(rows):
        value = generalised[row]
        if classes[value] >= k:
            kept.append(position)
            values.append(value)
    sizes = [n for n in classes.values() if n >= k]
    report = Report(
        k=k,
        rows_in=len(rows),
        rows_out=len(kept),
        rows_suppressed=len(rows) - len(kept),
        classes=len(sizes),
        smallest_class=min(sizes),
        levels=tuple(Level(h.name, lv, h.levels[lv], h.top) for h, lv in zip(hierarchies, levels, strict=True)),
    )
    return Anonymised(kept, values, report)


def _small(classes: Counter[Combination], k: int) -> int:
    """Rows in classes smaller than k: those that would be suppressed."""
    return sum(n for n in classes.values() if n < k)


def _lifted(classes: Counter[Combination], hierarchy: Hierarchy, i: int, level: int) -> Counter[Combination]:
    merged: Counter[Combination] = Counter()
    for combination, n in classes.items():
        merged[(*combination[:i], hierarchy.lift(combination[i], level), *combination[i + 1 :])] += n  # type: ignore[arg-type]
    return merged


def _at(combination: Combination, hierarchies: Sequence[Hierarchy], levels: Sequence[int]) -> tuple[Value, ...]:
    return tuple(h.at(v, lv) for h, v, lv in zip(hierarchies, combination, levels, strict=True))  # type: ignore[arg-type]


def _regroup(finest: Counter[Combination], hierarchies: Sequence[Hierarchy], levels: Sequence[int]) -> Counter:
    grouped: Counter[Combination] = Counter()
    for combination, n in finest.items():
        grouped[_at(combination, hierarchies, levels)] += n
    return grouped


def _descend(
    finest: Counter[Combination],
    hierarchies: Sequence[Hierarchy],
    levels: list[int],
    least: Sequence[int],
    classes: Counter[Combination],
    k: int,
    budget: int,
) -> tuple[list[int], Counter[Combination]]:
    """Take each attribute back down one level at a time, to ``least`` at most, while the budget holds (greedy may
    overshoot)."""
    lowered = True
    while lowered:
        lowered = False
        for i in range(len(levels)):
            if levels[i] <= least[i]:
                continue
            trial = [*levels[:i], levels[i] - 1, *levels[i + 1 :]]
            regrouped = _regroup(finest, hierarchies, trial)
            if _small(regrouped, k) <= budget:
                levels, classes, lowered = trial, regrouped, True
    return levels, classes


# -- the export's quasi-identifiers ------------------------------------------------------------------------

AGE_BANDS: Final = ("0—8", "9—17", "18—20", "21—23", "24—26", "27—29", "30—38", "39—47", "48+")
"""CTDC's ``ageBroad`` (codebook v2, 2024, with its em dashes)."""
_WIDER_BAND: Final = {
    "0—8": "0—17",
    "9—17": "0—17",
    "18—20": "18—29",
    "21—23": "18—29",
    "24—26": "18—29",
    "27—29": "18—29",
    "30—38": "30—47",
    "39—47": "30—47",
    "48+": "48+",
}
_MAJORITY: Final = {"0—17": "Minor", "18—29": "Adult", "30—47": "Adult", "48+": "Adult"}


def _band(age: int) -> str:
    for band in AGE_BANDS[:-1]:
        if age <= int(band.split("—")[1]):
            return band
    return AGE_BANDS[-1]


_BAND_OF_AGE: Final = tuple(_band(age) for age in range(49))


def age_band(age: int) -> str:
    """The CTDC ``ageBroad`` band of an age in whole years."""
    return _BAND_OF_AGE[age] if age < len(_BAND_OF_AGE) else AGE_BANDS[-1]


def _year_bin(width: int) -> Step:
    def step(value: str) -> str:
        start = int(value.split("—")[0]) // width * width
        return f"{start}—{start + width - 1}"

    return step


def _region_of_sub(code: str) -> str:
    return regions.SUB_REGIONS[code][1] if code in regions.SUB_REGIONS else regions.NO_REGION


AGE = Hierarchy(
    "ageBroad",
    (N_("age band"), N_("wider age band"), N_("minor or adult"), N_("suppressed")),
    (_WIDER_BAND.__getitem__, _MAJORITY.__getitem__),
)
SEX = Hierarchy("gender", (N_("gender"), N_("suppressed")), ())
CITIZENSHIP = Hierarchy(
    "citizenship",
    (N_("country"), N_("UN M49 sub-region"), N_("UN M49 region"), N_("suppressed")),
    (regions.sub_region, _region_of_sub),
)
EXPLOITATION_COUNTRY = Hierarchy(
    "CountryOfExploitation",
    (N_("country"), N_("UN M49 sub-region"), N_("UN M49 region"), N_("suppressed")),
    (regions.sub_region, _region_of_sub),
)
YEAR = Hierarchy(
    "yearOfRegistration", (N_("year"), N_("5 years"), N_("10 years"), N_("suppressed")), (_year_bin(5), _year_bin(10))
)
"""Years in 5-year, then 10-year bins (2020—2024, 2020—2029): a 2-year bin would not nest in a 5-year one."""

QUASI_IDENTIFIERS: Final = (AGE, SEX, CITIZENSHIP, EXPLOITATION_COUNTRY, YEAR)
"""The issue's quasi-identifiers, in this order: age group, sex, citizenship, country of exploitation, year."""
