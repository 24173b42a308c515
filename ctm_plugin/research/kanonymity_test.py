"""k-anonymity on generated data: many rows in a few common combinations, and rare ones beside them."""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from ctm_plugin.research import small_cell_k
from ctm_plugin.research.kanonymity import (
    AGE,
    AGE_BANDS,
    ONLY_EVERYTHING,
    QUASI_IDENTIFIERS,
    SUPPRESSED,
    TOO_FEW,
    YEAR,
    CannotAnonymise,
    age_band,
    anonymise,
)
from ctm_plugin.research.regions import region, sub_region

K = small_cell_k()
COUNTRIES = ["THA", "KHM", "MMR", "LAO", "VNM", "MDA", "UKR", "ROU", "NGA", "BRA", "USA", "FJI", "ATA"]
GENDERS = ["Man", "Woman", "Trans/Transgender/NonConforming", None]

quasi = st.tuples(
    st.sampled_from([*AGE_BANDS, None]),
    st.sampled_from(GENDERS),
    st.sampled_from([*COUNTRIES, None]),
    st.sampled_from([*COUNTRIES, None]),
    st.integers(2002, 2026).map(str),
)


@st.composite
def populations(draw: st.DrawFn) -> list[tuple[str | None, ...]]:
    """A few common combinations repeated (as cases cluster) plus rare, often unique, ones."""
    common = draw(st.lists(quasi, min_size=0, max_size=6))
    rows = [row for row in common for _ in range(draw(st.integers(1, 3 * K)))]
    rows += draw(st.lists(quasi, max_size=40))  # rare combinations
    return draw(st.permutations(rows))


def every_class_has_k(values: list[tuple[str | None, ...]], k: int) -> bool:
    return all(n >= k for n in Counter(values).values())


def generalises(original: tuple[str | None, ...], exported: tuple[str | None, ...], levels: list[int]) -> bool:
    return all(h.at(v, lv) == e for h, v, e, lv in zip(QUASI_IDENTIFIERS, original, exported, levels, strict=True))


@settings(max_examples=150)
@given(
    populations(),
    st.sampled_from([0.0, 0.05, 0.3]),
    st.none() | st.lists(st.integers(0, 3), min_size=len(QUASI_IDENTIFIERS), max_size=len(QUASI_IDENTIFIERS)),
)
@example([("18—20", "Woman", "KHM", "THA", "2024")] * K, 0.0, [3] * 5)  # a floor of everything suppressed
def test_every_exported_combination_occurs_at_least_k_times_or_nothing_is_exported(
    rows: list[tuple[str | None, ...]], budget: float, floor: list[int] | None
) -> None:
    try:
        done = anonymise(rows, QUASI_IDENTIFIERS, K, max_suppressed=budget, floor=floor)
    except CannotAnonymise as cannot:
        assert cannot.reason in (TOO_FEW, ONLY_EVERYTHING)
        assert cannot.reason != TOO_FEW or len(rows) < K
        return
    report = done.report
    assert every_class_has_k(done.values, K)
    assert report.smallest_class >= K and report.classes == len(set(done.values))
    # no row invented: each exported row is an input row, generalised as the report says, once
    levels = [level.level for level in report.levels]
    assert len(set(done.kept)) == len(done.kept) == len(done.values)
    assert all(generalises(rows[i], v, levels) for i, v in zip(done.kept, done.values, strict=True))
    # the suppression reported is the rows dropped, and within the budget
    assert report.rows_suppressed == len(rows) - len(done.kept) <= int(len(rows) * budget)
    assert report.rows_out == len(done.kept)
    # suppressing everything is never the answer
    assert not all(level.suppressed for level in report.levels)
    # no quasi-identifier finer than the floor (a file released before): at most its top
    assert all(lv.level >= min(least, lv.top) for lv, least in zip(report.levels, floor or [0] * 5, strict=True))


@given(st.lists(quasi, min_size=0, max_size=K - 1))
def test_fewer_rows_than_k_exports_nothing(rows: list[tuple[str | None, ...]]) -> None:
    with pytest.raises(CannotAnonymise) as cannot:
        anonymise(rows, QUASI_IDENTIFIERS, K)
    assert cannot.value.reason == TOO_FEW


def test_rows_all_different_cannot_be_exported_short_of_suppressing_everything() -> None:
    # every quasi-identifier still splits the rows one level below its top (minor/adult, two regions, two
    # decades...), so with no suppression allowed only suppressing all of them makes one class of k
    unique = [
        (
            ("9—17", "48+")[i % 2],
            ("Man", "Woman")[i % 2],
            ("THA", "MDA")[i % 2],
            ("USA", "NGA")[i % 2],
            str(1950 + 10 * i),
        )
        for i in range(K)
    ]
    with pytest.raises(CannotAnonymise) as cannot:
        anonymise(unique, QUASI_IDENTIFIERS, K, max_suppressed=0.0)
    assert cannot.value.reason == ONLY_EVERYTHING
    # the same rows, each k times over, are exported as they are
    assert anonymise(unique * K, QUASI_IDENTIFIERS, K).report.rows_suppressed == 0


def test_rows_that_already_are_k_anonymous_are_exported_as_they_are() -> None:
    rows = [("18—20", "Woman", "KHM", "THA", "2024")] * K + [("30—38", "Man", "MMR", "THA", "2023")] * K
    done = anonymise(rows, QUASI_IDENTIFIERS, K)
    assert done.values == rows
    assert [level.level for level in done.report.levels] == [0] * 5
    assert done.report.rows_suppressed == 0 and done.report.classes == 2


def test_a_rare_citizenship_is_generalised_to_its_region_rather_than_suppressed() -> None:
    rows = [("18—20", "Woman", "KHM", "THA", "2024")] * (3 * K) + [("18—20", "Woman", "LAO", "THA", "2024")] * 2
    done = anonymise(rows, QUASI_IDENTIFIERS, K, max_suppressed=0.0)
    by_name = {level.name: level for level in done.report.levels}
    assert by_name["citizenship"].level_name == "UN M49 sub-region"
    assert set(done.values) == {("18—20", "Woman", "035", "THA", "2024")}
    assert done.report.rows_out == len(rows)


def test_the_hierarchies_generalise_as_a_reader_expects() -> None:
    assert [age_band(a) for a in (0, 8, 9, 17, 18, 29, 47, 48, 90)] == [
        "0—8", "0—8", "9—17", "9—17", "18—20", "27—29", "39—47", "48+", "48+"
    ]  # fmt: skip
    assert [AGE.at("21—23", level) for level in range(4)] == ["21—23", "18—29", "Adult", SUPPRESSED]
    assert [YEAR.at("2023", level) for level in range(4)] == ["2023", "2020—2024", "2020—2029", SUPPRESSED]
    assert (sub_region("THA"), region("THA"), sub_region("MDA"), region("ATA")) == ("035", "142", "151", "999")
    assert AGE.at(None, 2) is None and AGE.at(None, 3) == SUPPRESSED
