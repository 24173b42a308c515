"""Login and permissions: the slow-down of an account at one address under parallel attempts, one Argon2
verification on every path, the rest's growth and cap, and plugins' roles and permissions kept to their own names.

Where a test needs to know which password hash was checked, it swaps the hasher of
``passwords.verify_password`` for a wrapper that records each call. Counting verifications
stands in for measuring time: a login's cost is its Argon2 verification, and comparing wall
clocks on a shared test machine would be flaky. tests/host/test_sign_in.py has the addresses' side.
"""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from argon2 import extract_parameters, profiles

from mimosa_host import accounts, passwords
from mimosa_host.accounts import add_user, authenticate, grant, known_roles, plugin_permissions
from mimosa_host.context import build_context, system_context
from mimosa_host.db import transaction
from mimosa_host.enablement import enable
from mimosa_host.models import Mission, SignInThrottle, User
from mimosa_host.plugin_api import Permission, PluginInfo, Role, hookimpl
from mimosa_host.plugins import PluginHost
from mimosa_host.roles import MANAGE_PLUGINS, VIEW_RECORDS
from mimosa_host.throttle import FREE_PER_ACCOUNT, MAX_DELAY, PASSWORD, Resting, retry_delay

T0 = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
RIGHT = "the right password"
WRONG = "a wrong password"
HERE = "198.51.100.7"


class RecordingHasher:
    """Wraps the real Argon2 hasher; records the hash each verification was made against.

    ``hold`` (optional) is called before verifying, with the hash and password, so that a
    test can keep one attempt inside its verification while others run.
    """

    def __init__(self, real, hold=None) -> None:  # noqa: ANN001
        self.real = real
        self.hold = hold
        self.verified: list[str] = []
        self.lock = threading.Lock()

    def hash(self, password: str) -> str:
        return self.real.hash(password)

    def verify(self, password_hash: str, password: str) -> bool:
        with self.lock:
            self.verified.append(password_hash)
        if self.hold is not None:
            self.hold(password_hash, password)
        return self.real.verify(password_hash, password)

    def against(self, password_hash: str) -> int:
        return sum(1 for h in self.verified if h == password_hash)


@pytest.fixture
def account(rt):  # noqa: ANN001, ANN201
    """The runtime and the hash of user ``dara`` (password ``RIGHT``)."""
    password_hash = passwords.hash_password(RIGHT)
    with transaction(rt.factory) as s:
        add_user(s, "dara", "Dara", password_hash)
    return rt, password_hash


@pytest.fixture
def hasher(monkeypatch: pytest.MonkeyPatch) -> RecordingHasher:
    recording = RecordingHasher(passwords._hasher)
    monkeypatch.setattr(passwords, "_hasher", recording)
    return recording


def failures(rt) -> tuple[int, datetime | None]:  # noqa: ANN001
    """Dara's failed passwords counted at ``HERE``, and the last one's time."""
    with rt.factory() as s:
        row = s.scalar(sa.select(SignInThrottle).filter_by(address=HERE, account="dara", step=PASSWORD))
        return (row.failures, row.last_failure) if row else (0, None)


def set_failures(rt, count: int, last: datetime) -> None:  # noqa: ANN001
    with transaction(rt.factory) as s:
        s.execute(sa.delete(SignInThrottle).filter_by(address=HERE, account="dara", step=PASSWORD))
        s.add(SignInThrottle(address=HERE, account="dara", step=PASSWORD, failures=count, last_failure=last))


def run_in_threads(count: int, target) -> list:  # noqa: ANN001
    """Run ``target()`` in ``count`` threads released together; their results, in no particular order."""
    barrier = threading.Barrier(count)
    results: list = []
    lock = threading.Lock()

    def worker() -> None:
        barrier.wait(timeout=30)
        result = target()
        with lock:
            results.append(result)

    threads = [threading.Thread(target=worker) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(results) == count
    return results


# -- parallel attempts ------------------------------------------------------------------


def test_parallel_wrong_passwords_are_each_counted_or_refused_unchecked(account, monkeypatch) -> None:  # noqa: ANN001
    rt, password_hash = account
    # Every attempt ends in one verification: holding each until all ten are in theirs makes them overlap for certain.
    inside = threading.Barrier(10, timeout=30)
    recording = RecordingHasher(passwords._hasher, hold=lambda _h, _p: inside.wait())
    monkeypatch.setattr(passwords, "_hasher", recording)

    results = run_in_threads(10, lambda: authenticate(rt.factory, "dara", WRONG, HERE, now=T0))

    refused_unchecked = [r for r in results if isinstance(r, Resting)]
    assert all(r is None for r in results if r not in refused_unchecked)  # the others: a wrong password
    checked = recording.against(password_hash)
    count, _last = failures(rt)
    assert 1 <= checked <= FREE_PER_ACCOUNT  # only the free attempts were checked ...
    assert checked <= count <= 10  # ... every one checked was counted, the others refused unchecked
    assert len(refused_unchecked) == 10 - checked and all(r.wait > timedelta(0) for r in refused_unchecked)
    assert len(recording.verified) == 10  # (each refused one still cost a verification)


def test_the_right_password_alongside_parallel_wrong_ones_does_not_get_in_while_resting(
    account,  # noqa: ANN001
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rt, password_hash = account
    set_failures(rt, FREE_PER_ACCOUNT - 1, T0 - timedelta(minutes=10))  # one more failure and the address rests
    wrong_in_flight, right_done = threading.Event(), threading.Event()

    def hold(checked_hash: str, password: str) -> None:
        # A wrong guess stays inside its verification until the right password has been tried.
        if checked_hash == password_hash and password == WRONG:
            wrong_in_flight.set()
            right_done.wait(timeout=30)

    recording = RecordingHasher(passwords._hasher, hold=hold)
    monkeypatch.setattr(passwords, "_hasher", recording)

    results: list = []
    threads = [
        threading.Thread(target=lambda: results.append(authenticate(rt.factory, "dara", WRONG, HERE, now=T0)))
        for _ in range(5)
    ]
    for thread in threads:
        thread.start()
    try:
        assert wrong_in_flight.wait(timeout=30)
        right = authenticate(rt.factory, "dara", RIGHT, HERE, now=T0)
    finally:
        right_done.set()
        for thread in threads:
            thread.join(timeout=30)

    assert isinstance(right, Resting)
    assert all(r is None or isinstance(r, Resting) for r in results) and len(results) == 5
    assert recording.against(password_hash) == 1  # only the guess that claimed the last free slot was checked
    count, _last = failures(rt)
    assert count >= FREE_PER_ACCOUNT
    # Once the rest is over, the right password gets in and the count starts again.
    later = T0 + retry_delay(count, FREE_PER_ACCOUNT)
    assert authenticate(rt.factory, "dara", RIGHT, HERE, now=later) is not None
    assert failures(rt) == (0, None)


# -- one verification on every path ------------------------------------------------------


def test_every_refusal_costs_one_verification_like_a_real_check(account, hasher) -> None:  # noqa: ANN001
    rt, password_hash = account

    assert authenticate(rt.factory, "nobody", RIGHT, HERE, now=T0) is None  # unknown user
    assert len(hasher.verified) == 1 and hasher.against(password_hash) == 0

    assert authenticate(rt.factory, "dara", WRONG, HERE, now=T0) is None  # wrong password
    assert len(hasher.verified) == 2 and hasher.against(password_hash) == 1

    set_failures(rt, FREE_PER_ACCOUNT, T0)
    resting = authenticate(rt.factory, "dara", RIGHT, HERE, now=T0)  # resting: checked against a dummy
    assert resting == Resting(retry_delay(FREE_PER_ACCOUNT, FREE_PER_ACCOUNT))
    assert len(hasher.verified) == 3 and hasher.against(password_hash) == 1
    assert failures(rt)[0] == FREE_PER_ACCOUNT  # and not counted

    set_failures(rt, 0, T0)
    with transaction(rt.factory) as s:
        s.execute(sa.update(User).where(User.username == "dara").values(active=False))
    assert authenticate(rt.factory, "dara", RIGHT, HERE, now=T0) is None  # inactive
    assert len(hasher.verified) == 4

    with transaction(rt.factory) as s:
        s.execute(sa.update(User).where(User.username == "dara").values(active=True))
    assert authenticate(rt.factory, "dara", RIGHT, HERE, now=T0) is not None  # the right password
    assert len(hasher.verified) == 5


def test_the_host_hashes_with_argon2id_at_its_recommended_cost(monkeypatch: pytest.MonkeyPatch) -> None:
    """The suite hashes with Argon2's cheapest parameters (tests/conftest.py); the host's own are argon2-cffi's."""
    for name in ("_hasher", "_DUMMY_HASH"):
        monkeypatch.setattr(passwords, name, getattr(passwords, name))  # the suite's, back after the test
    passwords.use_parameters(passwords.PARAMETERS)

    stored = passwords.hash_password(RIGHT)
    assert extract_parameters(stored) == profiles.get_default_parameters() and stored.startswith("$argon2id$")
    assert extract_parameters(passwords._DUMMY_HASH) == extract_parameters(stored)  # an unknown user costs the same
    assert passwords.verify_password(stored, RIGHT)


# -- the rest: growth and cap ---------------------------------------------------------------


def test_the_rest_doubles_with_each_failure_and_is_capped() -> None:
    assert [retry_delay(n, FREE_PER_ACCOUNT).total_seconds() for n in range(8)] == [0, 0, 0, 2, 4, 8, 16, 32]
    assert retry_delay(12, FREE_PER_ACCOUNT) == MAX_DELAY == timedelta(minutes=15)
    assert retry_delay(10_000, FREE_PER_ACCOUNT) == MAX_DELAY  # a long-attacked address does not overflow


def test_each_failure_lengthens_the_rest_and_a_resting_account_is_not_even_checked(account, hasher) -> None:  # noqa: ANN001
    rt, password_hash = account
    now = T0
    for n in range(FREE_PER_ACCOUNT):
        assert authenticate(rt.factory, "dara", WRONG, HERE, now=now) is None
        assert failures(rt)[0] == n + 1
    for n in range(FREE_PER_ACCOUNT, 14):
        rest = retry_delay(n, FREE_PER_ACCOUNT)
        assert rest == min(timedelta(seconds=2 ** (n - FREE_PER_ACCOUNT + 1)), MAX_DELAY)
        checked = hasher.against(password_hash)
        # Just before the rest is over, even the right password is refused, unchecked and uncounted.
        resting = authenticate(rt.factory, "dara", RIGHT, HERE, now=now + rest - timedelta(milliseconds=1))
        assert resting == Resting(timedelta(milliseconds=1))
        assert hasher.against(password_hash) == checked
        assert failures(rt)[0] == n
        # When it is over, a wrong guess is checked and lengthens the next rest.
        now += rest
        assert authenticate(rt.factory, "dara", WRONG, HERE, now=now) is None
        assert failures(rt)[0] == n + 1
    assert retry_delay(failures(rt)[0], FREE_PER_ACCOUNT) == MAX_DELAY
    assert authenticate(rt.factory, "dara", RIGHT, HERE, now=now + MAX_DELAY - timedelta(seconds=1)) == Resting(
        timedelta(seconds=1)
    )
    assert authenticate(rt.factory, "dara", RIGHT, HERE, now=now + MAX_DELAY) is not None
    assert failures(rt) == (0, None)


# -- plugins' roles and permissions --------------------------------------------------------


class RoguePlugin:
    """Stands in for a third-party plugin that declares names outside its own ``rogue.`` prefix."""

    @hookimpl
    def mimosa_plugin_info(self) -> PluginInfo:
        return PluginInfo("rogue", "0.1", "Rogue", "Overreaches.", ">=1.0,<2")

    @hookimpl
    def mimosa_permissions(self) -> list[Permission]:
        return [Permission("rogue.view", "View"), Permission(VIEW_RECORDS, "Mine now"), Permission("other.x", "X")]

    @hookimpl
    def mimosa_roles(self) -> list[Role]:
        return [
            Role("rogue.reader", "Reader", ("rogue.view", MANAGE_PLUGINS, "other.x")),
            Role("host.mission_admin", "Not the host's", ("rogue.view",)),
            Role("superuser", "Super", (MANAGE_PLUGINS,)),
        ]


def test_plugin_names_outside_its_prefix_are_ignored_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    host = PluginHost()
    host.register(RoguePlugin(), "rogue")
    accounts._ignore.cache_clear()  # each ignored name is logged once per process: forget earlier tests'

    with caplog.at_level(logging.WARNING, logger="mimosa_host.accounts"):
        roles = {role.name: role for role in known_roles(host)}
        permissions = plugin_permissions(host)

    assert [p.name for p in permissions["rogue"]] == ["rogue.view"]
    assert roles["rogue.reader"].permissions == ("rogue.view",)  # no host permission, no other plugin's
    assert "superuser" not in roles
    assert roles["host.mission_admin"].permissions == (VIEW_RECORDS, MANAGE_PLUGINS)  # still the host's own
    assert [r.name for r in known_roles(host)].count("host.mission_admin") == 1
    logged = caplog.text
    for name in (VIEW_RECORDS, "other.x", "superuser", "'host.mission_admin'", MANAGE_PLUGINS):
        assert name in logged


def test_a_plugin_role_grants_no_host_permission_and_cannot_redefine_a_host_role(rt) -> None:  # noqa: ANN001
    rt.host.register(RoguePlugin(), "rogue")
    with transaction(rt.factory) as s:
        s.add(Mission(code="THA", name="Thailand", country="THA"))
        s.flush()
        enable(s, rt.host, "THA", "rogue", {}, system_context(s, rt.host, rt.factory, s.get(Mission, "THA")))
        grant(s, add_user(s, "eve", "Eve", "x"), "THA", "rogue.reader")
        grant(s, add_user(s, "mai", "Mai", "x"), "THA", "host.mission_admin")

    def permissions(username: str) -> frozenset[str]:
        with rt.factory() as s:
            user = s.scalar(sa.select(User).where(User.username == username))
            return build_context(s, rt.host, rt.factory, s.get(Mission, "THA"), user, "en")[0].permissions

    assert permissions("eve") == {"rogue.view"}
    assert permissions("mai") == {VIEW_RECORDS, MANAGE_PLUGINS}
