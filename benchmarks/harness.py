"""Timing helpers: run a callable many times, report median and 95th percentile."""

from __future__ import annotations

import re
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

from mimosa_host.demo import password_for


@dataclass(frozen=True)
class Timing:
    label: str
    median: float
    p95: float

    def row(self, baseline: Timing | None = None) -> str:
        ratio = f"{self.median / baseline.median:6.2f}x" if baseline else "  base "
        return f"  {self.label:<52} median {self.median * 1e6:10.1f} µs   p95 {self.p95 * 1e6:10.1f} µs   {ratio}"


def measure(label: str, fn: Callable[[], object], runs: int, warmup: int = 20) -> Timing:
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    samples.sort()
    return Timing(label, statistics.median(samples), samples[int(0.95 * (len(samples) - 1))])


def report(title: str, baseline: Timing, *others: Timing) -> None:
    print(title)
    print(baseline.row())
    for timing in others:
        print(timing.row(baseline))
    print()


def logged_in(app, username: str = "caseworker"):  # noqa: ANN001, ANN201
    """A Flask test client logged in as a demo user (HTTPS, so the Secure session cookie travels)."""
    client = app.test_client()
    base = "https://localhost"
    page = client.get("/login", base_url=base).get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    client.post(
        "/login",
        base_url=base,
        headers={"Referer": base + "/"},
        data={"username": username, "password": password_for(username), "csrf_token": token},
    )
    return client
