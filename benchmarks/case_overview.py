"""Opening the case-overview tab with 100,000 synthetic cases in the database.

Beside it, in the same run and on the same database: the host's own details tab of the
same beneficiaries (the page the CT tab sits in, without any CT data), and the CT tab
with only 1,000 cases (how the tab's cost grows with the size of the database).
"""

from __future__ import annotations

import os
import random
import secrets
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import TypeVar

import sqlalchemy as sa

from benchmarks.harness import Result, logged_in, measure, report
from ctm_plugin.domain.case import Case, PersonProfile, VictimContext
from ctm_plugin.domain.screening import Determination
from mimosa_host.demo import seed
from mimosa_host.models import Beneficiary
from mimosa_host.plugins import PluginHost
from mimosa_host.runtime import Runtime
from mimosa_host.web import create_app

T = TypeVar("T")
CASES = 100_000
SMALL = 1_000
RUNS = 200
CHUNK = 5_000
PG_ENV = "CTM_BENCH_DATABASE_URL"
PG_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def _rows(start: int, stop: int) -> Iterator[tuple[dict, dict, dict, dict | None]]:
    rng = random.Random(start)  # noqa: S311 - synthetic data
    for n in range(start, stop):
        ref = f"BEN-9{n:06d}"
        yield (
            {
                "beneficiary_id": ref,
                "mission_code": "THA",
                "family_name": f"Family{n}",
                "given_name": f"Given{n}",
                "sex": rng.choice("FMX"),
                "birth_date": date(1980, 1, 1) + timedelta(days=n % 9000),
                "birth_date_estimated": False,
                "languages": ["tha"],
                "vulnerabilities": [],
                "record_version": 1,
            },
            {
                "id": n + 1,
                "mission_code": "THA",
                "case_number": f"THA-CT-BENCH-{n:06d}",
                "beneficiary_id": ref,
                "status": "Active",
                "owner": "caseworker",
                "opened_on": date(2025, 1, 1),
                "version": 1,
                "updated_by": "bench",
            },
            {
                "case_id": n + 1,
                "mission_code": "THA",
                "gender": "Feminine",
                "languages": ["tha"],
                "citizenships": ["MMR"],
                "birth_date_precision": "Year",
            },
            {
                "case_id": n + 1,
                "mission_code": "THA",
                "decision": "VictimOfTrafficking",
                "reason": "bench",
                "decided_by": "hq",
            }
            if n % 3 == 0
            else None,
        )


def fill(rt: Runtime, start: int, stop: int) -> None:
    """Bulk-insert host beneficiaries and CT cases (with person, victim context, some decisions)."""
    tables = (Beneficiary.__table__, Case.__table__, PersonProfile.__table__, Determination.__table__)
    for chunk in range(start, stop, CHUNK):
        rows = list(_rows(chunk, min(chunk + CHUNK, stop)))
        with rt.engine.begin() as conn:
            for table, column in zip(tables, (0, 1, 2, 3), strict=True):
                batch = [r[column] for r in rows if r[column] is not None]
                conn.execute(sa.insert(table), batch)
            conn.execute(
                sa.insert(VictimContext.__table__),
                [
                    {
                        "case_id": r[1]["id"],
                        "mission_code": "THA",
                        "recruitment_methods": [],
                        "control_methods": [],
                        "exploitation_types": ["ForcedLabour"],
                        "sexual_exploitation_types": [],
                    }
                    for r in rows
                ],
            )
    if rt.engine.dialect.name == "postgresql":
        with rt.engine.begin() as conn:
            conn.execute(sa.text("SELECT setval('ctm_case_id_seq', (SELECT max(id) FROM ctm_case))"))
        # Settle the bulk load (statistics, dirty pages) so the timings measure the pages, not it.
        with rt.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text("VACUUM ANALYZE"))
            conn.execute(sa.text("CHECKPOINT"))


def time_pages(app, label: str, count: int, runs: int = RUNS):  # noqa: ANN001, ANN201
    client = logged_in(app)
    rng = random.Random(7)  # noqa: S311

    def page(path: str):  # noqa: ANN202
        def run() -> None:
            ref = f"BEN-9{rng.randrange(count):06d}"
            response = client.get(path.format(ref=ref), base_url="https://localhost")
            assert response.status_code == 200, response.status_code

        return run

    host = measure(f"host details tab, {label}", page("/m/THA/beneficiaries/{ref}"), runs)
    ct = measure(f"CT case-overview tab, {label}", page("/m/THA/plugins/ctm/records/beneficiary/{ref}/case"), runs)
    return host, ct


def bench(url: str, backend: str, cases: int = CASES, runs: int = RUNS) -> Result:
    host = PluginHost()
    host.load_entry_points()
    rt = Runtime.from_url(url, host=host)
    seed(rt)
    app = create_app(rt)
    fill(rt, 0, SMALL)
    _host_small, ct_small = time_pages(app, f"{SMALL:,} cases", SMALL, runs)
    fill(rt, SMALL, cases)
    host_big, ct_big = time_pages(app, f"{cases:,} cases", cases, runs)
    report(f"Case-overview tab on {backend} (baseline: the host's own tab, same beneficiaries)", host_big, ct_big)
    print(f"  p95 ratio, CT tab / host's tab: {ct_big.p95 / host_big.p95:.2f}x (goal: 1.5x, and 30 ms)\n")
    report(f"Case-overview tab on {backend}: growth from {SMALL:,} to {cases:,} cases", ct_small, ct_big)
    rt.engine.dispose()
    return Result(
        "case_tab",
        ct_big.p95 * 1e3,
        f"ms p95, {cases:,} cases, {backend}",
        "the host's own tab, p95",
        host_big.p95 * 1e3,
    )


@contextmanager
def postgresql_database(template: str | None = None) -> Iterator[str | None]:
    """A new database (a copy of ``template``, if named) for one benchmark, dropped after it; ``None`` when
    PostgreSQL cannot be reached."""
    base = os.environ.get(PG_ENV, PG_DEFAULT)
    name = f"ctm_bench_{secrets.token_hex(4)}"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else "")))
    except sa.exc.OperationalError:
        yield None
        return
    try:
        yield str(sa.engine.make_url(base).set(database=name))
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def on_each_backend(run: Callable[[str, str], T], *, postgresql: bool = True) -> list[T]:
    """``run(url, backend)`` on SQLite under a temporary folder, then on PostgreSQL when it can be reached (and
    ``postgresql``); what each returned."""
    with tempfile.TemporaryDirectory() as folder:
        results = [run(f"sqlite:///{Path(folder) / 'bench.db'}", "SQLite")]
    if not postgresql:
        return results
    with postgresql_database() as url:
        if url is None:
            print(f"PostgreSQL not reachable ({PG_ENV} or {PG_DEFAULT}): skipped\n")
        else:
            results.append(run(url, "PostgreSQL"))
    return results


def headline(bench: Callable[..., Result], quick: bool, *quick_sizes: int) -> Result:
    """``bench(url, backend)`` on each backend, or ``--quick`` on SQLite alone at ``quick_sizes``; the last
    backend's result (PostgreSQL's when it ran: a query there is a round trip)."""
    if quick:
        return on_each_backend(lambda url, backend: bench(url, backend, *quick_sizes), postgresql=False)[-1]
    return on_each_backend(bench)[-1]


def run(quick: bool) -> Result:
    return headline(bench, quick, 10_000, 50)


def main() -> None:
    run(quick=False)
