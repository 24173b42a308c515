"""Timing helpers: run a callable many times, report median and 95th percentile; a demo login over
real HTTP, and the time each checkout of a connection pool waited."""

from __future__ import annotations

import http.client
import json
import re
import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

import sqlalchemy as sa

from mimosa_host.demo import password_for


@dataclass(frozen=True)
class Result:
    """A benchmark's headline figure beside its baseline, both measured in the same run; ``ratio`` is
    ``value / baseline_value``. Printed as one JSON object, the benchmark's last line, for scripts and CI."""

    name: str
    value: float
    unit: str
    baseline: str
    baseline_value: float

    @property
    def ratio(self) -> float:
        return self.value / self.baseline_value if self.baseline_value else float("inf")

    def line(self) -> str:
        return json.dumps(
            {
                "name": self.name,
                "value": round(self.value, 3),
                "unit": self.unit,
                "baseline": self.baseline,
                "baseline_value": round(self.baseline_value, 3),
                "ratio": round(self.ratio, 3),
            }
        )


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


def http_get(base_url: str, path: str, cookie: str = "", form: dict[str, str] | None = None) -> tuple[int, str, str]:
    """(status, body, the session cookie set, if any) of a GET, or of a POST of ``form``, over real HTTP."""
    parts = urlsplit(base_url)
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=120)
    headers = {"Cookie": cookie} if cookie else {}
    body = None
    if form is not None:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        body = urlencode(form)
    try:
        conn.request("GET" if form is None else "POST", path, body=body, headers=headers)
        response = conn.getresponse()
        text = response.read().decode("utf-8", "replace")
    finally:
        conn.close()
    return response.status, text, (response.getheader("Set-Cookie") or "").split(";", 1)[0]


def http_login(base_url: str, username: str = "caseworker") -> str:
    """Log a demo user in over plain HTTP on loopback; the session cookie as a ``Cookie`` header value.

    The cookie is ``Secure``, which HTTP clients keep only for https: it is carried by hand.
    """
    _status, page, cookie = http_get(base_url, "/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    form = {"username": username, "password": password_for(username), "csrf_token": token}
    status, _body, cookie = http_get(base_url, "/login", cookie, form)
    assert status == 302 and cookie, status
    return cookie


class PoolWaits:
    """How long each checkout from ``engine``'s connection pool waited for a connection.

    The pool's ``connect`` is timed from the call until the pool's ``checkout`` event on the same thread.
    """

    def __init__(self, engine: sa.Engine) -> None:
        self.waits: list[float] = []
        self._started = threading.local()
        pool = engine.pool
        connect = pool.connect

        def timed_connect():  # noqa: ANN202 - the pool's own return type
            self._started.at = time.perf_counter()
            return connect()

        pool.connect = timed_connect  # type: ignore[method-assign]
        sa.event.listen(pool, "checkout", self._checked_out)

    def _checked_out(self, *_args: object) -> None:
        started = getattr(self._started, "at", None)
        if started is not None:
            self.waits.append(time.perf_counter() - started)  # list.append is atomic under the GIL
            self._started.at = None

    @property
    def longest(self) -> float:
        return max(self.waits, default=0.0)
