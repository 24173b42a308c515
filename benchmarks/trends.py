"""Trends over 1,000,000 synthetic cases on PostgreSQL (``--quick``: 50,000): the trends page's every chart read
from the pre-computed counts and suppressed, beside a plain GROUP BY of one chart (sex by year) over the cases,
in the same run. Goal: the whole page's tables (a dozen charts) under 1 s, so each chart well under it.

The cases are seeded once with COPY into a template database named for their number (``ctm_trends_tpl_<n>``)
and kept: the next run copies the template (``CREATE DATABASE ... TEMPLATE``) instead of seeding again. The
counts are made in the template by the trends job's own code (:func:`ctm_plugin.services.trends.refresh`), and
how long that took is printed: the page states as of when its counts were made. Without PostgreSQL the quick run
uses SQLite (plain inserts), and says so.
"""

from __future__ import annotations

import io
import json
import os
import random
import time
from collections.abc import Iterator
from datetime import date

import sqlalchemy as sa

from benchmarks.case_overview import PG_DEFAULT, PG_ENV, postgresql_database
from benchmarks.harness import Result, measure
from ctm_plugin.services import trends
from mimosa_host.context import build_context
from mimosa_host.demo import seed
from mimosa_host.models import Mission, User
from mimosa_host.plugins import PluginHost
from mimosa_host.runtime import Runtime

CASES, QUICK_CASES = 1_000_000, 50_000
RUNS, QUICK_RUNS = 10, 5
GOAL_SECONDS = 1.0
TEMPLATE_VERSION = 3
"""Raised when what the template holds changes: an older template is not reused."""

SEXES = ("Feminine", "Masculine", "NonSpecifiedUnknown")
CITIZENSHIPS = ("MMR", "KHM", "LAO", "VNM", "THA", "CHN", "IDN", "PHL")
TYPES = ("ForcedLabour", "SexualExploitation", "ForcedBegging", "ForcedMarriage", "Servitude")
CONTROLS = ("DebtBondage", "WithholdsDocuments", "Threats", "FalsePromises", "PhysicalAbuse")
RELATIONS = ("Friend", "Family", "IntimatePartner", "Other", "Unknown")
COUNTRIES = ("THA", "MYS", "IDN", "CHN", "KHM")


def _skewed(rng: random.Random, values: tuple[str, ...]) -> str:
    """Most often the first, rarely the last: small cells for the suppression to do."""
    return rng.choices(values, weights=[3 ** (len(values) - i) for i in range(len(values))])[0]


def _rows(count: int) -> Iterator[tuple[tuple, tuple, tuple, tuple, tuple]]:
    rng = random.Random(count)  # noqa: S311 - synthetic data
    for n in range(1, count + 1):
        opened = date(2016 + n % 10, 1 + n % 12, 1 + n % 28)
        types = [_skewed(rng, TYPES)]
        yield (
            (n, "THA", f"THA-TR-{n:07d}", f"BEN-TR-{n:07d}", "Active", "caseworker", opened, 1, "2026-01-01", "bench"),
            (
                n,
                "THA",
                _skewed(rng, SEXES),
                json.dumps([_skewed(rng, CITIZENSHIPS)]),
                date(1970 + n % 40, 6, 1),
                "Year",
                "[]",
            ),
            (n, "THA", json.dumps(types), json.dumps(rng.sample(CONTROLS, 2)), _skewed(rng, RELATIONS), "[]", "[]"),
            (2 * n - 1, n, "THA", 1, "Recruitment", _skewed(rng, CITIZENSHIPS[:4]), "Unknown", "Unknown"),
            (2 * n, n, "THA", 2, "Exploitation", _skewed(rng, COUNTRIES), "Unknown", "Unknown"),
        )


COLUMNS = (
    (
        "ctm_case",
        "id, mission_code, case_number, beneficiary_id, status, owner, opened_on, version, updated_at, updated_by",
    ),
    ("ctm_person", "case_id, mission_code, gender, citizenships, birth_date, birth_date_precision, languages"),
    (
        "ctm_victim_context",
        "case_id, mission_code, exploitation_types, control_methods, recruiter_relationship, recruitment_methods,"
        " sexual_exploitation_types",
    ),
    ("ctm_event", "id, case_id, mission_code, sequence, type, country, start_precision, end_precision"),
)


def _fill(rt: Runtime, count: int) -> None:
    """The cases: COPY on PostgreSQL, plain inserts on SQLite; the two events share one table."""
    if rt.engine.dialect.name == "postgresql":
        raw = rt.engine.raw_connection()
        try:
            cursor = raw.cursor()
            buffers = [io.StringIO() for _ in range(4)]
            for rows in _rows(count):
                for index, row in enumerate((*rows[:3], rows[3])):
                    buffers[index].write("\t".join(str(v) for v in row) + "\n")
                buffers[3].write("\t".join(str(v) for v in rows[4]) + "\n")
            for (table, columns), buffer in zip(COLUMNS, buffers, strict=True):
                with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:  # type: ignore[attr-defined]
                    copy.write(buffer.getvalue())
            cursor.execute("SELECT setval('ctm_case_id_seq', (SELECT max(id) FROM ctm_case))")
            cursor.execute("SELECT setval('ctm_event_id_seq', (SELECT max(id) FROM ctm_event))")
            raw.commit()
        finally:
            raw.close()
        with rt.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text("VACUUM ANALYZE"))
        return
    with rt.engine.begin() as conn:
        for (table, columns), index in zip(COLUMNS, range(4), strict=True):
            names = [c.strip() for c in columns.split(",")]
            rows = [r[index] for r in _rows(count)] + ([r[4] for r in _rows(count)] if index == 3 else [])
            statement = sa.text(f"INSERT INTO {table} ({columns}) VALUES ({', '.join(':' + n for n in names)})")
            conn.execute(statement, [dict(zip(names, row, strict=True)) for row in rows])


def _context(rt: Runtime, username: str, mission: str = "THA"):  # noqa: ANN202
    with rt.factory() as s:
        user = s.scalar(sa.select(User).where(User.username == username)) if username else None
        return build_context(s, rt.host, rt.factory, s.get(Mission, mission), user, "en", plugin="ctm")[0]


def _prepare(url: str, count: int) -> float:
    """A migrated demo database with ``count`` cases and their counts made; the counting's seconds."""
    host = PluginHost()
    host.load_entry_points()
    rt = Runtime.from_url(url, host=host)
    seed(rt)
    _fill(rt, count)
    start = time.perf_counter()
    trends.refresh(_context(rt, ""))
    took = time.perf_counter() - start
    for mission in trends.scope(_context(rt, "hq")):  # the page shows the years every mission of HQ's released
        if mission.code != "THA":
            trends.refresh(_context(rt, "", mission.code))
    rt.engine.dispose()
    return took


def _template(base: str, count: int) -> tuple[str, float | None]:
    """The template database of ``count`` cases, made now if missing (with the seconds its counting took)."""
    name = f"ctm_trends_tpl_{count}_v{TEMPLATE_VERSION}"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            if conn.scalar(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}):
                return name, None
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}_new" WITH (FORCE)'))  # an interrupted one
            conn.execute(sa.text(f'CREATE DATABASE "{name}_new"'))
        took = _prepare(str(sa.engine.make_url(base).set(database=f"{name}_new")), count)
        with admin.connect() as conn:
            conn.execute(sa.text(f'ALTER DATABASE "{name}_new" RENAME TO "{name}"'))
        return name, took
    finally:
        admin.dispose()


def _measure(url: str, backend: str, count: int, runs: int, counting: float | None) -> Result:
    host = PluginHost()
    host.load_entry_points()
    rt = Runtime.from_url(url, host=host)
    hq = _context(rt, "hq")
    assert len(trends.trends(hq, {}).tables) > 1, "the template's years are released in every mission of HQ's"
    page = measure(
        f"the trends page's tables by year, suppressed, {count:,} cases", lambda: trends.trends(hq, {}), runs, 2
    )
    quarters = measure(
        f"the same by quarter, {count:,} cases", lambda: trends.trends(hq, {"period": "quarter"}), runs, 2
    )
    plain = sa.text(
        "SELECT substr(CAST(c.opened_on AS TEXT), 1, 4) AS year, p.gender, count(*) FROM ctm_case c"
        " JOIN ctm_person p ON p.case_id = c.id WHERE c.mission_code = 'THA' GROUP BY 1, 2"
    )

    def group_by() -> None:
        with rt.engine.connect() as conn:
            conn.execute(plain).all()

    baseline = measure(f"a plain GROUP BY of one chart (sex by year), {count:,} cases", group_by, runs, 2)
    rt.engine.dispose()
    print(f"Trends on {backend}, {count:,} cases (goal: the page under {GOAL_SECONDS:.0f} s)")
    if counting is not None:
        print(f"  the counts made by the trends job in {counting:.1f} s (the page states as of when)")
    for timing in (baseline, page, quarters):
        print(f"  {timing.label:<70} median {timing.median * 1e3:9.1f} ms   p95 {timing.p95 * 1e3:9.1f} ms")
    verdict = "ok" if page.p95 <= GOAL_SECONDS else "over the goal"
    print(f"  every chart of the page within {page.p95 * 1e3:.0f} ms: {verdict}\n")
    return Result(
        "trends",
        page.p95 * 1e3,
        f"ms p95, the trends page's 12 suppressed tables, {count:,} cases, {backend}",
        "a plain GROUP BY of one chart over the cases",
        baseline.p95 * 1e3,
    )


def bench(quick: bool) -> Result:
    count, runs = (QUICK_CASES, QUICK_RUNS) if quick else (CASES, RUNS)
    base = os.environ.get(PG_ENV, PG_DEFAULT)
    try:
        name, counting = _template(base, count)
    except sa.exc.OperationalError:
        print(f"PostgreSQL not reachable ({PG_ENV} or {PG_DEFAULT}): SQLite instead\n")
        import tempfile
        from pathlib import Path

        with tempfile.TemporaryDirectory() as folder:
            url = f"sqlite:///{Path(folder) / 'trends.db'}"
            counting = _prepare(url, count)
            return _measure(url, "SQLite", count, runs, counting)
    with postgresql_database(template=name) as url:
        assert url is not None
        return _measure(url, "PostgreSQL", count, runs, counting)


def run(quick: bool) -> Result:
    return bench(quick)
