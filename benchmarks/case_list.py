"""The case list at 1,000 and at 100,000 cases: the first page, a deep keyset page, a status-and-owner filter and a
search by case number, each through the list's use case as the page calls it for a caseworker (the page's
rendering of 50 rows is the same at any size), on SQLite and PostgreSQL.

Keyset paging and the list's indexes (ctm0012) should keep every query's p95 at 100,000 cases within 1.5 times
its p95 at 1,000. The cases are bulk-inserted (:func:`benchmarks.case_overview.fill`), then given owners,
statuses and identification dates by id, so that filters and equal sort keys have something to do.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import date

import sqlalchemy as sa

from benchmarks.case_overview import SMALL, fill, headline
from benchmarks.harness import Result, Timing, measure
from ctm_plugin.domain.case import Case
from ctm_plugin.schemas.case_list import cursor
from ctm_plugin.services import case_list as service
from mimosa_host.context import build_context
from mimosa_host.demo import seed
from mimosa_host.models import Mission, User
from mimosa_host.plugin_api import RequestContext
from mimosa_host.plugins import PluginHost
from mimosa_host.runtime import Runtime

CASES = 100_000
RUNS = 200
GOAL = 1.5
LIST = "/m/THA/plugins/ctm/cases"


def spread(rt: Runtime) -> None:
    """Owners, closed cases and identification dates by id: a quarter the supervisor's, a fifth closed, seven
    days of identification (many equal sort keys)."""
    case = Case.__table__.c
    with rt.engine.begin() as conn:
        conn.execute(
            sa.update(Case.__table__).values(
                owner=sa.case((case.id % 4 == 0, "supervisor"), else_=case.owner),
                status=sa.case((case.id % 5 == 0, "Closed"), else_=case.status),
                opened_on=sa.case(
                    *((case.id % 7 == n, sa.literal(date(2025, 1, n + 1), sa.Date())) for n in range(1, 7)),
                    else_=case.opened_on,
                ),
            )
        )
    if rt.engine.dialect.name == "postgresql":
        with rt.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text("VACUUM ANALYZE ctm_case"))


def deep_cursor(rt: Runtime, count: int) -> str:
    """The ``after`` of the page nine tenths of the way through the list by case number."""
    with rt.engine.connect() as conn:
        number, row_id = conn.execute(
            sa.select(Case.case_number, Case.id).order_by(Case.case_number, Case.id).offset(count * 9 // 10).limit(1)
        ).one()
    return cursor("number", number, row_id)


def caseworker(rt: Runtime) -> RequestContext:
    """The caseworker's context in THA, as a request to a CT page gets it."""
    with rt.factory() as s:
        user = s.scalar(sa.select(User).where(User.username == "caseworker"))
        return build_context(s, rt.host, rt.factory, s.get(Mission, "THA"), user, "en", plugin="ctm")[0]


def time_queries(rt: Runtime, count: int, runs: int = RUNS) -> list[Timing]:
    """Each query through the list's use case (its audit event included), as the page calls it."""
    ctx = caseworker(rt)
    rng = random.Random(11)  # noqa: S311 - synthetic data
    deep = deep_cursor(rt, count)

    def listing(query: Callable[[], dict[str, str]]) -> Callable[[], None]:
        def run() -> None:
            assert service.list_cases(ctx, query()).rows

        return run

    label = f"{count:,} cases"
    return [
        measure(f"first page, {label}", listing(dict), runs),
        measure(
            f"deep keyset page (9/10 by number), {label}", listing(lambda: {"sort": "number", "after": deep}), runs
        ),
        measure(
            f"closed cases of supervisor, {label}",
            listing(lambda: {"status": "closed", "owner": "supervisor"}),
            runs,
        ),
        measure(
            f"search by case number, {label}",
            listing(lambda: {"number": f"THA-CT-BENCH-{rng.randrange(count):06d}"}),
            runs,
        ),
    ]


def bench(url: str, backend: str, cases: int = CASES, runs: int = RUNS) -> Result:
    """Each query's p95 at :data:`SMALL` and at ``cases``; the headline is the query whose ratio is the largest."""
    host = PluginHost()
    host.load_entry_points()
    rt = Runtime.from_url(url, host=host)
    seed(rt)
    fill(rt, 0, SMALL)
    spread(rt)
    small = time_queries(rt, SMALL, runs)
    fill(rt, SMALL, cases)
    spread(rt)
    big = time_queries(rt, cases, runs)
    print(f"Case list on {backend}: p95 at {SMALL:,} and {cases:,} cases, and their ratio (goal: within {GOAL}x)")
    for before, after in zip(small, big, strict=True):
        ratio = after.p95 / before.p95
        verdict = "ok" if ratio <= GOAL else "over the goal"
        print(
            f"  {before.label.split(', ')[0]:<40} p95 {before.p95 * 1e3:8.2f} ms -> {after.p95 * 1e3:8.2f} ms"
            f"   {ratio:5.2f}x  {verdict}"
        )
    print()
    rt.engine.dispose()
    before, after = max(zip(small, big, strict=True), key=lambda pair: pair[1].p95 / pair[0].p95)
    query = before.label.split(", ")[0]
    return Result(
        "case_list",
        after.p95 * 1e3,
        f"ms p95, {query}, {cases:,} cases, {backend}",
        f"the same at {SMALL:,} cases",
        before.p95 * 1e3,
    )


def run(quick: bool) -> Result:
    return headline(bench, quick, 10_000, 50)


def main() -> None:
    run(quick=False)


if __name__ == "__main__":
    main()
