"""A load test with Locust: caseworkers and movement officers on the production server, on PostgreSQL.

The demo is migrated and seeded into a PostgreSQL database of its own (``CTM_TEST_DATABASE_URL``'s server),
with a case to screen for each simulated caseworker and cases ready for a return (consent and checklist done,
as ``benchmarks.sync``'s ``open_cases`` and ``prepare_returns`` make them), one per booking. ``mimosa-host
serve`` runs as a subprocess on a free port (gunicorn's web workers, one per core and at least two, and its
jobs process, whose relay sends each booking to the host's SOAP services on the same server). Then
:mod:`benchmarks.load_users` drives it: two users for a few seconds (discarded: each worker's first pages load
their templates, mappings and clients), one user alone (the baseline), then :data:`USERS` users
(:data:`QUICK_USERS` with ``--quick``) for :data:`SECONDS` seconds, each signed in once, 2 to 5 seconds of
think time between actions: the case list, a beneficiary page with its CT tab, a screening saved, a return
booked; the server trusts one proxy, and each user gives its own address in ``X-Forwarded-For``, as nginx
would (the sign-in throttle turns away many sign-ins of one account from one address at once). Printed: each
page's count, median and 95th percentile, the errors (an answer other than the one expected, or none), the
bookings made; the headline is the 95th percentile of every page's time once every user
has signed in (the sign-ins' argon2 hashing, all at the start, is a burst no steady day has; printed apart).

The load generator shares the machine's cores with the server (and PostgreSQL): on a 2-core machine the
figures are the server's under that competition, a floor for it, not its measure.

Needs Locust: ``pip install -e '.[bench]'`` (``make bench`` installs it).
"""

from __future__ import annotations

import json
import math
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from benchmarks import sync
from benchmarks.case_overview import PG_DEFAULT, PG_ENV, postgresql_database
from benchmarks.harness import Result
from mimosa_host.plugins import PluginHost
from mimosa_host.runtime import DATABASE_ENV, Runtime
from mimosa_host.web import TRUSTED_PROXIES_ENV

USERS, SECONDS = 50, 120
QUICK_USERS, QUICK_SECONDS = 10, 30
BASELINE_SECONDS, QUICK_BASELINE_SECONDS = 30, 15
WARM_UP_SECONDS = 8
SIGN_IN = "sign-in"


@dataclass(frozen=True)
class Pass:
    users: int
    seconds: float
    samples: list[tuple[str, float, bool, bool]]
    bookings: int
    why: dict[str, int]

    @property
    def pages(self) -> list[float]:
        """Every page's time (ms) once every user had signed in (the sign-ins' argon2 hashing over)."""
        return [ms for name, ms, _failed, steady in self.samples if name != SIGN_IN and steady]

    @property
    def errors(self) -> int:
        return sum(failed for _name, _ms, failed, _steady in self.samples)

    @property
    def p95(self) -> float:
        return percentile(self.pages, 0.95)

    @property
    def p95_with_sign_ins(self) -> float:
        """Every page's time, those while users were still signing in too."""
        return percentile([ms for name, ms, _failed, _steady in self.samples if name != SIGN_IN], 0.95)

    def report(self, title: str) -> None:
        print(
            f"{title}: {self.users} user(s), {self.seconds:g} s, {len(self.samples)} requests, "
            f"{len(self.samples) / self.seconds:.1f} req/s, errors {self.errors}, bookings {self.bookings}"
        )
        by_name: dict[str, list[float]] = defaultdict(list)
        failed: dict[str, int] = defaultdict(int)
        for name, ms, bad, _steady in self.samples:
            by_name[name].append(ms)
            failed[name] += bad
        for name, times in sorted(by_name.items()):
            print(
                f"  {name:<18} {len(times):>5}   median {statistics.median(times):8.1f} ms   "
                f"p95 {percentile(times, 0.95):8.1f} ms   errors {failed[name]}"
            )
        print(f"  {'every page':<18} {len(self.pages):>5}   p95 {self.p95:8.1f} ms   once every user had signed in")
        print(f"  {'':<18} {'':>5}   p95 {self.p95_with_sign_ins:8.1f} ms   with those during the sign-ins")
        for reason, count in sorted(self.why.items()):
            print(f"  error {reason}: {count}")
        print()


def percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile: the smallest value at least ``share`` of them do not exceed."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)] if ordered else float("nan")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def mimosa(env: dict[str, str], *args: str) -> None:
    subprocess.run([sys.executable, "-m", "mimosa_host", *args], env=env, check=True, stdout=subprocess.DEVNULL)  # noqa: S603


def prepare(url: str, env: dict[str, str], caseworkers: int, returns: int) -> dict[str, list[str]]:
    """The demo with its CT cases, a case to screen per caseworker, ``returns`` cases ready to book; their refs."""
    mimosa(env, "db", "upgrade")
    mimosa(env, "demo", "seed")
    mimosa(env, "ctm", "demo", "cases")
    host = PluginHost()
    host.load_entry_points()
    rt = Runtime.from_url(url, host=host)
    try:
        sync.fill_host(rt, caseworkers + returns)
        screening = sync.open_cases(rt, range(caseworkers))
        ready = sync.open_cases(rt, range(caseworkers, caseworkers + returns), consent=True)
        sync.prepare_returns(rt, list(ready.values()))
        sync.settle(rt)
    finally:
        rt.engine.dispose()
    return {"screening": list(screening), "returns": list(ready), "viewing": list(screening)}


def wait_until_serving(base_url: str, server: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the server exited ({server.returncode})")
        try:
            with urllib.request.urlopen(f"{base_url}/login", timeout=5) as response:  # noqa: S310 - our loopback
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError("the server did not answer")


def drive(base_url: str, plan: dict[str, list[str]], users: int, seconds: float, folder: Path) -> Pass:
    path = folder / f"plan-{users}.json"
    path.write_text(json.dumps(plan), encoding="utf-8")
    command = [sys.executable, "-m", "benchmarks.load_users", "--host", base_url, "--users", str(users)]
    command += ["--seconds", str(seconds), "--plan", str(path)]
    done = subprocess.run(command, check=True, capture_output=True, text=True)  # noqa: S603 - our own module
    out = json.loads(done.stdout)
    return Pass(users, seconds, [tuple(sample) for sample in out["samples"]], out["bookings"], out["errors"])


def bench(url: str, users: int, seconds: float, baseline_seconds: float) -> Result:
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    # One trusted proxy: Locust's users say their own addresses in X-Forwarded-For, as nginx would (load_users.py).
    env = {**os.environ, DATABASE_ENV: url, "PORT": str(port), TRUSTED_PROXIES_ENV: "1"}
    caseworkers = users - users // 3 + 1
    # A movement officer books at most every other action, 2 s apart at the soonest: enough cases for that.
    per_officer = int(seconds / 2 / 2) + 2
    returns = per_officer * (users // 3 + 1) + int((baseline_seconds + WARM_UP_SECONDS) / 2) + 4
    print(f"Seeding: the demo, {caseworkers} cases to screen, {returns} cases ready for a return ...", flush=True)
    plan = prepare(url, env, caseworkers, returns)
    with tempfile.TemporaryDirectory() as folder:
        log = Path(folder) / "server.log"
        with log.open("wb") as output:
            server = subprocess.Popen(  # noqa: S603 - our own command
                [sys.executable, "-m", "mimosa_host", "serve", "--port", str(port)],
                env=env,
                stdout=output,
                stderr=subprocess.STDOUT,
            )
            try:
                wait_until_serving(base_url, server)
                # Discarded: each worker's first pages load templates, mappings and clients once.
                warm = drive(base_url, plan, 2, WARM_UP_SECONDS, Path(folder))
                plan["returns"] = plan["returns"][: len(plan["returns"]) - warm.bookings]  # the cases booked
                alone = drive(base_url, plan, 1, baseline_seconds, Path(folder))
                plan["returns"] = plan["returns"][: len(plan["returns"]) - alone.bookings]
                crowd = drive(base_url, plan, users, seconds, Path(folder))
            finally:
                server.send_signal(signal.SIGTERM)
                server.wait(60)
    cores = os.cpu_count() or 1
    print(
        f"Load test on PostgreSQL: mimosa-host serve (gunicorn, {max(2, cores)} web workers, 4 threads each, and its "
        f"jobs process) on {base_url}; Locust's users run in one process beside it, sharing the machine's "
        f"{cores} cores with the server and PostgreSQL: the figures are a floor for the server, not its measure.\n"
    )
    alone.report("Baseline, one user (both roles)")
    crowd.report("Load")
    print(
        f"  p95 of every page: {crowd.p95:.1f} ms with {users} users, {alone.p95:.1f} ms alone "
        f"({crowd.p95 / alone.p95:.2f}x); errors {crowd.errors} (alone {alone.errors})\n"
    )
    return Result("load", crowd.p95, f"ms p95 of every page, {users} users, PostgreSQL", "1 user, p95", alone.p95)


def run(quick: bool) -> Result:
    users, seconds = (QUICK_USERS, QUICK_SECONDS) if quick else (USERS, SECONDS)
    baseline = QUICK_BASELINE_SECONDS if quick else BASELINE_SECONDS
    with postgresql_database() as url:
        if url is None:
            print(f"PostgreSQL not reachable ({PG_ENV} or {PG_DEFAULT}): the load test needs it\n")
            return Result("load", float("nan"), "ms p95 (not run: no PostgreSQL)", "1 user, p95", float("nan"))
        return bench(url, users, seconds, baseline)


if __name__ == "__main__":
    print(run(quick="--quick" in sys.argv).line())
