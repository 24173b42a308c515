"""Concurrent users on the CT tab of the demo, served over HTTP on loopback.

:data:`USERS` users (one thread each, released together) load the beneficiary page with its CT
tab and the CT case tab in turn, :data:`ROUNDS` times each, beside one user loading the same
pages as many times in a row (the baseline). For each: throughput, median and 95th percentile
of the answer time, answers other than 2xx, and the longest a checkout waited for a connection
of the pool (sized as ``MIMOSA_DB_POOL_SIZE`` / ``MIMOSA_DB_MAX_OVERFLOW`` say, or the host's
defaults). On SQLite under a temporary folder and on PostgreSQL (a database of its own, skipped
when it cannot be reached). The host runs in a thread of this process: client and server share
one interpreter (and its GIL), so the figures are a floor for a real server, not its measure.
Bounded: a fixed number of requests, each with a time limit.

``python -m benchmarks.concurrency`` runs this part alone.
"""

from __future__ import annotations

import statistics
import threading
import time
from dataclasses import dataclass

from benchmarks.case_overview import headline
from benchmarks.harness import PoolWaits, Result, http_get, http_login
from benchmarks.sync import serving
from mimosa_host import db
from mimosa_host.demo import seed
from mimosa_host.plugins import PluginHost
from mimosa_host.runtime import Runtime

USERS = 60
ROUNDS = 5
PAGES = ("/m/THA/beneficiaries/BEN-1000001", "/m/THA/plugins/ctm/records/beneficiary/BEN-1000001/case")


@dataclass(frozen=True)
class Load:
    users: int
    seconds: float
    times: list[float]
    failures: int
    longest_wait: float

    @property
    def p95(self) -> float:
        times = sorted(self.times)
        return times[int(0.95 * (len(times) - 1))]

    def row(self) -> str:
        times, p95 = self.times, self.p95
        return (
            f"  {self.users:>3} user(s) {len(times):>5} requests {len(times) / self.seconds:8.1f} req/s   "
            f"p50 {statistics.median(times) * 1e3:8.1f} ms   p95 {p95 * 1e3:8.1f} ms   "
            f"non-2xx {self.failures:>3}   longest pool wait {self.longest_wait * 1e3:8.1f} ms"
        )


def drive(base_url: str, cookie: str, rt: Runtime, users: int, rounds: int) -> Load:
    """``users`` threads, released together, each loading the pages in turn ``rounds`` times."""
    waits = PoolWaits(rt.engine)
    start = threading.Barrier(users + 1)
    times: list[float] = []
    failures: list[int] = []

    def user(number: int) -> None:
        start.wait()
        for round_ in range(rounds):
            begun = time.perf_counter()
            try:
                status = http_get(base_url, PAGES[(number + round_) % len(PAGES)], cookie)[0]
            except OSError:  # a refused or timed-out connection counts as a failed answer
                status = 0
            times.append(time.perf_counter() - begun)
            if not 200 <= status < 300:
                failures.append(status)

    threads = [threading.Thread(target=user, args=(n,), daemon=True) for n in range(users)]
    for thread in threads:
        thread.start()
    start.wait()
    begun = time.perf_counter()
    for thread in threads:
        thread.join()
    return Load(users, time.perf_counter() - begun, times, len(failures), waits.longest)


def bench(url: str, label: str, users: int = USERS, rounds: int = ROUNDS) -> Result:
    host = PluginHost()
    host.load_entry_points()
    rt = Runtime.from_url(url, host=host)
    rt.upgrade_all()
    seed(rt)
    pool = db.pool_settings(url)
    try:
        with serving(rt) as base_url:
            cookie = http_login(base_url)
            drive(base_url, cookie, rt, 1, len(PAGES))  # warm-up: templates compiled, caches filled
            baseline = drive(base_url, cookie, rt, 1, users * rounds // 10)
            loaded = drive(base_url, cookie, rt, users, rounds)
    finally:
        rt.engine.dispose()
    print(
        f"Concurrent users on the CT tab, {label} (pool {pool.get('pool_size')} + {pool.get('max_overflow')} overflow)"
    )
    print(baseline.row())
    print(loaded.row())
    print()
    return Result(
        "concurrency", loaded.p95 * 1e3, f"ms p95, {users} users, {label}", "one user, p95", baseline.p95 * 1e3
    )


def run(quick: bool) -> Result:
    return headline(bench, quick, 20, 2)


def main() -> None:
    run(quick=False)


if __name__ == "__main__":
    main()
