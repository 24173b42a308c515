"""The simulated users of :mod:`benchmarks.load` (Locust), run in a process of their own:

    python -m benchmarks.load_users --host URL --users N --seconds S --plan PLAN.json

Locust patches the interpreter for gevent when imported, which no other benchmark should run under: this
module is only ever a child process. It prints one JSON object: every request's name, time (ms), whether it
failed and whether every user had signed in by then (the steady load), the bookings made, the errors' reasons.

Each simulated user signs in once, as ``caseworker`` (two in three) or ``movement`` (one in three), and then,
with 2 to 5 seconds of think time between actions: a caseworker opens the case list, a beneficiary page and
its CT case tab, or saves a screening interview on a case of its own (the form read first, for its CSRF token
and the case's version); a movement officer opens a beneficiary page and its CT tab, or books a return (the
Return tab read, then the booking posted) on a case ready for it (consent and checklist done), one case per
booking. A lone user (``--users 1``, the baseline) signs in as both and does either role's actions in the same
proportions.
"""

from __future__ import annotations

import argparse
import itertools
import json
import re
import sys
from collections.abc import Iterator
from typing import Any

import gevent
from locust import HttpUser, between, events, task
from locust.env import Environment

from mimosa_host.demo import password_for

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
VERSION = re.compile(r'name="version" value="(\d+)"')
CASEWORKER, MOVEMENT = "caseworker", "movement"
SCREENING = {
    "interview_date": "2026-02-01",
    "place": "Synthetic: the mission's office",
    "interviewer": "Load test",
    "age_at_act": "24",
    "acts": ["Recruitment", "Transportation"],
    "means": ["Deception"],
    "purposes": ["ForcedLabour"],
}
CT = "/m/THA/plugins/ctm/records/beneficiary/{ref}"


class Plan:
    screening: Iterator[str]
    returns: list[str]
    viewing: list[str]
    users: int
    serial = itertools.count()
    bookings = 0
    signed_in = 0
    """Users done signing in: once all are, the load is steady (no argon2 hashing of sign-ins any more)."""


def booking_form(version: int, token: str) -> dict[str, Any]:
    return {
        "version": version,
        "csrf_token": token,
        "origin_country": "THA",
        "origin_location": "BKK",
        "destination_country": "KHM",
        "destination_location": "PNH",
        "earliest_departure": "2027-06-01",
        "escort": "OPERATIONAL",
        "fit_to_travel": "y",
        "project_code": "THA-CT-01",
    }


class Officer(HttpUser):
    wait_time = between(2, 5)

    def on_start(self) -> None:
        index = next(Plan.serial)
        self.cookies: dict[str, str] = {}
        # Each user at an address of its own, as the proxy in front would say (the server trusts one proxy): the
        # sign-in throttle counts attempts per address, and turns away many sign-ins at once from one.
        self.address = f"10.77.{index // 250}.{index % 250 + 1}"
        roles = [CASEWORKER, MOVEMENT] if Plan.users == 1 else [MOVEMENT if index % 3 == 2 else CASEWORKER]
        for role in roles:
            self._sign_in(role)
        self.case = next(Plan.screening) if CASEWORKER in roles else ""
        self.viewed = Plan.viewing[index % len(Plan.viewing)]
        Plan.signed_in += 1

    # -- requests, each with its role's session cookie (Secure: carried by hand over plain HTTP) --

    def _send(self, role: str, method: str, path: str, name: str, expect: int, **kwargs: Any) -> str:
        headers = {"Cookie": self.cookies.get(role, ""), "X-Forwarded-For": self.address}
        with self.client.request(
            method, path, name=name, headers=headers, allow_redirects=False, catch_response=True, **kwargs
        ) as response:
            cookie = response.headers.get("Set-Cookie")
            if cookie:
                self.cookies[role] = cookie.split(";", 1)[0]
            if response.status_code != expect:
                response.failure(f"{response.status_code}")
            return response.text

    def _sign_in(self, role: str) -> None:
        page = self._send(role, "GET", "/login", "sign-in", 200)
        token = CSRF.search(page)
        form = {"username": role, "password": password_for(role), "csrf_token": token.group(1) if token else ""}
        self._send(role, "POST", "/login", "sign-in", 302, data=form)

    def _role(self, wanted: str) -> str | None:
        return wanted if wanted in self.cookies else None

    # -- the actions, weighted: a caseworker's 2:2:1, a movement officer's 1:1 (a lone user: both) --

    @task(2)
    def case_list(self) -> None:
        if self._role(CASEWORKER):
            self._send(CASEWORKER, "GET", "/m/THA/plugins/ctm/cases", "case list", 200)
        else:
            self.beneficiary()

    @task(3)
    def beneficiary(self) -> None:
        role = CASEWORKER if self._role(CASEWORKER) else MOVEMENT
        ref = self.case or self.viewed
        self._send(role, "GET", f"/m/THA/beneficiaries/{ref}", "beneficiary page", 200)
        self._send(role, "GET", CT.format(ref=ref) + "/case", "CT case tab", 200)

    @task(1)
    def screening(self) -> None:
        if not self._role(CASEWORKER):
            return self.book()
        page = self._send(CASEWORKER, "GET", CT.format(ref=self.case) + "/screening", "screening tab", 200)
        token, version = CSRF.search(page), VERSION.search(page)
        if token and version:
            form = {**SCREENING, "version": version.group(1), "csrf_token": token.group(1)}
            self._send(
                CASEWORKER, "POST", CT.format(ref=self.case) + "/screening/record", "screening save", 303, data=form
            )
        return None

    @task(1)
    def book(self) -> None:
        if not self._role(MOVEMENT):
            return self.screening()
        if not Plan.returns:  # every prepared case booked: the tab alone
            self._send(MOVEMENT, "GET", CT.format(ref=self.viewed) + "/return", "return tab", 200)
            return None
        ref = Plan.returns.pop()
        page = self._send(MOVEMENT, "GET", CT.format(ref=ref) + "/return", "return tab", 200)
        token, version = CSRF.search(page), VERSION.search(page)
        if token and version:
            form = booking_form(int(version.group(1)), token.group(1))
            self._send(MOVEMENT, "POST", CT.format(ref=ref) + "/return/book", "return booking", 303, data=form)
            Plan.bookings += 1
        return None


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", required=True)
    parser.add_argument("--users", type=int, required=True)
    parser.add_argument("--seconds", type=float, required=True)
    parser.add_argument("--plan", required=True)
    args = parser.parse_args(argv)
    with open(args.plan, encoding="utf-8") as file:
        plan = json.load(file)
    Plan.screening, Plan.returns, Plan.viewing = iter(plan["screening"]), plan["returns"], plan["viewing"]
    Plan.users = args.users
    samples: list[tuple[str, float, bool, bool]] = []
    why: dict[str, int] = {}

    def record(name: str, response_time: float, exception: BaseException | None, **_kwargs: Any) -> None:
        samples.append((name, response_time, exception is not None, Plan.signed_in >= Plan.users))
        if exception is not None:
            key = f"{name}: {str(exception)[:80]}"
            why[key] = why.get(key, 0) + 1

    env = Environment(user_classes=[Officer], host=args.host, events=events)
    env.events.request.add_listener(record)
    runner = env.create_local_runner()
    runner.start(args.users, spawn_rate=10)
    gevent.spawn_later(args.seconds, runner.quit)
    runner.greenlet.join()
    json.dump({"samples": samples, "bookings": Plan.bookings, "errors": why}, sys.stdout)


if __name__ == "__main__":
    main(sys.argv[1:])
