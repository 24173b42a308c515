"""Sign-in as users meet it: failures slow down the address they come from, never the owner elsewhere, and a
resting address is told how many minutes to wait; a limit per address across accounts; X-Forwarded-For counted
only through trusted proxies; the TOTP second factor with its recovery codes and the QR code of its enrolment,
its reset by an HQ administrator (after a confirmation), and the enrolment the host requires of administrators.

Codes are computed with pyotp on the real clock, as an authenticator app would. Where a test must know how long
a rest lasts, the web app's clock is stopped (the ``clock`` fixture) so that no real time passes in between.
"""

from __future__ import annotations

import html
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pyotp
import pytest
import segno
import sqlalchemy as sa
from click.testing import CliRunner

from mimosa_host import i18n, throttle
from mimosa_host.accounts import authenticate
from mimosa_host.cli import main
from mimosa_host.demo import password_for
from mimosa_host.models import AdminAction, SignInThrottle, User
from mimosa_host.throttle import FORGET_AFTER, FREE_PER_ACCOUNT, FREE_PER_ADDRESS, Resting, retry_delay
from mimosa_host.web import auth, create_app, second_factor_pages

OWNER = "203.0.113.10"
ATTACKER = "198.51.100.66"
PROXY = "10.0.0.2"
WRONG = "Wrong username or password."
WRONG_CODE = "The code is wrong or was already used."
TOO_MANY = "Too many attempts from this address: try again in"


def wait_message(minutes: int, locale: str = "en") -> str:
    """What a resting address reads, from the host's catalog."""
    return i18n.ngettext(
        "Too many attempts from this address: try again in %(minutes)d minute.",
        "Too many attempts from this address: try again in %(minutes)d minutes.",
        minutes,
        locale=locale,
        minutes=minutes,
    )


def text(response) -> str:  # noqa: ANN001
    return response.get_data(as_text=True)


def alert(response) -> str:  # noqa: ANN001
    """The error message the page shows (unescaped), or ``""``."""
    found = re.search(r'<p class="flash error" role="alert">(.*?)</p>', text(response))
    return html.unescape(found.group(1)) if found else ""


class Clock:
    """The web app's clock, stopped at the real time the test began; only :meth:`advance` moves it."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, by: timedelta) -> None:
        self.now += by


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[Clock]:
    stopped = Clock()
    for module in (auth, second_factor_pages):
        monkeypatch.setattr(module, "_now", stopped)
    yield stopped


def sign_in(  # noqa: ANN201
    browser,  # noqa: ANN001
    username: str,
    password: str | None = None,
    address: str = OWNER,
    forwarded: str = "",
    language: str = "",
):
    """The login form posted from ``address`` (the socket's peer), with ``X-Forwarded-For: forwarded`` and
    ``Accept-Language: language`` if given."""
    environ = {"REMOTE_ADDR": address}
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    if language:
        headers["Accept-Language"] = language
    browser.get("/login", environ_base=environ, headers=headers)
    form = {"username": username, "password": password or password_for(username)}
    return browser.post("/login", form, environ_base=environ, headers=headers)


def signed_in(browser) -> bool:  # noqa: ANN001
    return browser.get("/m/THA/beneficiaries").status_code == 200


# -- throttling per address ------------------------------------------------------------------


def test_twenty_failures_from_one_address_do_not_stop_the_owner_signing_in_from_another(app, login_to, clock) -> None:  # noqa: ANN001
    attacker = login_to(app)
    answers = [alert(sign_in(attacker, "caseworker", "a wrong guess", address=ATTACKER)) for _ in range(20)]
    # The free failures are told they are wrong; then the address rests, and is told for how long.
    assert answers == [WRONG] * FREE_PER_ACCOUNT + [wait_message(1)] * (20 - FREE_PER_ACCOUNT)
    even_the_right_one = sign_in(attacker, "caseworker", address=ATTACKER)  # from there
    assert even_the_right_one.status_code == 401 and alert(even_the_right_one) == wait_message(1)

    owner = login_to(app)
    assert sign_in(owner, "caseworker", address=OWNER).status_code == 302
    assert signed_in(owner)


def test_a_resting_address_is_told_the_wait_in_whole_minutes_even_the_right_password_and_in_french(
    app,  # noqa: ANN001
    login_to,  # noqa: ANN001
    clock: Clock,
) -> None:
    attacker = login_to(app)
    # Each wrong guess made once the rest before it is over lengthens the next rest: 2 s, 4 s ... up to 15 minutes.
    for failures in range(FREE_PER_ACCOUNT + 10):
        clock.advance(retry_delay(failures, FREE_PER_ACCOUNT))
        assert alert(sign_in(attacker, "caseworker", "a wrong guess", address=ATTACKER)) == WRONG
    assert retry_delay(FREE_PER_ACCOUNT + 10, FREE_PER_ACCOUNT) == timedelta(minutes=15)

    clock.advance(timedelta(minutes=2, seconds=30))  # 12 minutes 30 seconds left: said as 13 minutes
    refused = sign_in(attacker, "caseworker", address=ATTACKER)  # the right password, from the resting address
    assert refused.status_code == 401 and alert(refused) == wait_message(13)
    assert wait_message(13) == "Too many attempts from this address: try again in 13 minutes."
    in_french = alert(sign_in(attacker, "caseworker", address=ATTACKER, language="fr"))
    assert in_french == wait_message(13, "fr") == "Trop de tentatives depuis cette adresse : réessayez dans 13 minutes."

    clock.advance(timedelta(minutes=12))  # 30 seconds left: a minute at least, in the singular
    assert alert(sign_in(attacker, "caseworker", address=ATTACKER)) == wait_message(1)
    assert wait_message(1) == "Too many attempts from this address: try again in 1 minute."
    assert "1 minute." in wait_message(1, "fr") and wait_message(1, "fr") != wait_message(1)

    owner = login_to(app)  # meanwhile, from another address, the right password opens at once
    assert sign_in(owner, "caseworker", address=OWNER).status_code == 302 and signed_in(owner)
    clock.advance(timedelta(seconds=30))  # the rest is over: the right password opens from there too
    assert sign_in(attacker, "caseworker", address=ATTACKER).status_code == 302 and signed_in(attacker)


@pytest.mark.parametrize(
    ("wait", "minutes"),
    [(timedelta(milliseconds=1), 1), (timedelta(seconds=2), 1), (timedelta(seconds=60), 1), (timedelta(seconds=61), 2)]
    + [(timedelta(minutes=15), 15)],
)
def test_the_wait_is_said_in_minutes_rounded_up(wait: timedelta, minutes: int) -> None:
    assert Resting(wait).minutes == minutes


def test_an_unknown_account_is_answered_and_slowed_down_exactly_like_a_known_one(app, login_to, clock) -> None:  # noqa: ANN001
    """No account enumeration: the same answers, at the same attempts, for a username that exists and one that
    does not; the rest's wait included."""
    answers = {}
    for username in ("caseworker", "no-such-user"):
        browser = login_to(app)
        tried = [sign_in(browser, username, "a wrong guess", address=ATTACKER) for _ in range(FREE_PER_ACCOUNT + 2)]
        answers[username] = [(a.status_code, alert(a)) for a in tried]
    assert answers["caseworker"] == answers["no-such-user"]
    assert answers["caseworker"] == [(401, WRONG)] * FREE_PER_ACCOUNT + [(401, wait_message(1))] * 2
    with app.extensions["mimosa"].factory() as s:
        counted = dict(
            s.execute(
                sa.select(SignInThrottle.account, SignInThrottle.failures).where(
                    SignInThrottle.address == ATTACKER, SignInThrottle.step == throttle.PASSWORD
                )
            ).all()
        )
    assert counted["caseworker"] == counted["no-such-user"] == FREE_PER_ACCOUNT


def test_past_the_limit_per_address_every_account_rests_there_and_nowhere_else(app, login_to, clock) -> None:  # noqa: ANN001
    sprayer = login_to(app)
    # Below each account's own limit: a few guesses at many accounts, known or not.
    for n in range(FREE_PER_ADDRESS):
        guess = sign_in(sprayer, f"user-{n % 10}", "a wrong guess", address=ATTACKER)
        assert guess.status_code == 401 and alert(guess) == WRONG
    untouched = sign_in(sprayer, "movement", address=ATTACKER)  # an account never guessed at, its right password
    assert untouched.status_code == 401 and alert(untouched) == wait_message(1)

    elsewhere = login_to(app)
    assert sign_in(elsewhere, "movement", address=OWNER).status_code == 302


def test_a_success_gives_its_place_back_so_that_an_office_behind_one_address_is_not_slowed(app, login_to) -> None:  # noqa: ANN001
    for _ in range(FREE_PER_ADDRESS + 5):
        assert sign_in(login_to(app), "caseworker", address=OWNER).status_code == 302
    with app.extensions["mimosa"].factory() as s:
        assert s.scalar(sa.select(SignInThrottle.failures).filter_by(address=OWNER, account="", step="")) == 0


def test_failures_are_forgotten_an_hour_after_the_last(demo) -> None:  # noqa: ANN001
    t0 = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)
    for _ in range(FREE_PER_ACCOUNT):
        assert authenticate(demo.factory, "caseworker", "a wrong guess", ATTACKER, now=t0) is None
    resting = authenticate(demo.factory, "caseworker", password_for("caseworker"), ATTACKER, now=t0)
    assert resting == Resting(retry_delay(FREE_PER_ACCOUNT, FREE_PER_ACCOUNT))
    later = t0 + FORGET_AFTER + timedelta(seconds=1)
    assert authenticate(demo.factory, "caseworker", password_for("caseworker"), ATTACKER, now=later) is not None
    with demo.factory() as s:
        assert (
            s.scalar(sa.select(sa.func.count()).select_from(SignInThrottle).where(SignInThrottle.address == ATTACKER))
            == 1
        )


@pytest.mark.parametrize(
    ("remote_addr", "counted_as"),
    [
        ("192.0.2.7", "192.0.2.7"),
        ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:ffff::9", "2001:db8:1:2::/64"),  # the same subscriber's /64
        ("::ffff:192.0.2.7", "192.0.2.7"),
        (None, "unknown"),
    ],
)
def test_a_client_is_counted_by_its_address_or_its_ipv6_network(remote_addr: str | None, counted_as: str) -> None:
    assert throttle.client_key(remote_addr) == counted_as


# -- X-Forwarded-For --------------------------------------------------------------------------


def test_x_forwarded_for_is_ignored_without_trusted_proxies(app, login_to) -> None:  # noqa: ANN001
    attacker = login_to(app)
    for n in range(FREE_PER_ACCOUNT):  # a new forged address on each guess
        assert (
            sign_in(attacker, "caseworker", "a wrong guess", address=ATTACKER, forwarded=f"192.0.2.{n}").status_code
            == 401
        )
    assert sign_in(attacker, "caseworker", address=ATTACKER, forwarded="192.0.2.99").status_code == 401  # still resting


def test_x_forwarded_for_is_honoured_through_one_trusted_proxy(demo, login_to) -> None:  # noqa: ANN001
    app = create_app(demo, {"TESTING": True, "TRUSTED_PROXIES": "1"})
    attacker = login_to(app)
    for _ in range(FREE_PER_ACCOUNT):
        # The attacker writes the owner's address; the proxy appends the one it saw, and that one counts.
        forged = f"{OWNER}, {ATTACKER}"
        assert sign_in(attacker, "caseworker", "a wrong guess", address=PROXY, forwarded=forged).status_code == 401
    assert sign_in(attacker, "caseworker", address=PROXY, forwarded=ATTACKER).status_code == 401

    owner = login_to(app)  # through the same proxy, from another address
    assert sign_in(owner, "caseworker", address=PROXY, forwarded=OWNER).status_code == 302


def test_a_trusted_proxies_setting_that_is_not_a_number_stops_the_start(demo) -> None:  # noqa: ANN001
    with pytest.raises(ValueError, match="MIMOSA_TRUSTED_PROXIES"):
        create_app(demo, {"TRUSTED_PROXIES": "yes"})


# -- the second factor ----------------------------------------------------------------------------


def enrol(browser) -> tuple[pyotp.TOTP, list[str]]:  # noqa: ANN001
    """Set up the signed-in user's second factor as they would: its app's TOTP and the recovery codes shown."""
    browser.get("/account/second-factor")
    assert browser.post("/account/second-factor/start").status_code == 302
    page = text(browser.get("/account/second-factor"))
    secret = re.search(r'<code class="secret">([A-Z2-7]+)</code>', page).group(1)
    assert "otpauth://totp/MiMOSA:" in page and f"secret={secret}" in page
    totp = pyotp.TOTP(secret)
    shown = browser.post("/account/second-factor/confirm", {"code": totp.now()})
    assert shown.status_code == 200
    codes = re.findall(r"<li><code>([a-z2-9]{5}-[a-z2-9]{5})</code></li>", text(shown))
    assert len(set(codes)) == 10
    return totp, codes


def next_code(totp: pyotp.TOTP) -> str:
    """The code of the next 30-second step (accepted, phones' clocks drift): never the one just used."""
    return totp.at(time.time() + totp.interval)


def log_out(browser) -> None:  # noqa: ANN001
    browser.get("/m/THA/beneficiaries")
    assert browser.post("/logout").status_code == 302


def test_enrolled_sign_in_asks_for_the_code_refuses_a_wrong_one_and_takes_a_recovery_code_once(app, login_to) -> None:  # noqa: ANN001
    browser = login_to(app, "caseworker")
    totp, codes = enrol(browser)
    assert "10 recovery codes left" in text(browser.get("/account/second-factor"))
    log_out(browser)

    password_only = sign_in(browser, "caseworker")
    assert password_only.status_code == 302 and password_only.headers["Location"].endswith("/login/code")
    assert not signed_in(browser)  # the password alone opens nothing
    browser.get("/login/code")
    wrong = "000000" if totp.now() != "000000" else "111111"
    refused = browser.post("/login/code", {"code": wrong})
    assert refused.status_code == 401 and WRONG_CODE in text(refused)
    assert browser.post("/login/code", {"code": codes[0].upper()}).status_code == 302  # as typed from paper
    assert signed_in(browser)
    assert "9 recovery codes left" in text(browser.get("/account/second-factor"))
    log_out(browser)

    sign_in(browser, "caseworker")
    browser.get("/login/code")
    assert browser.post("/login/code", {"code": codes[0]}).status_code == 401  # used up
    code = next_code(totp)
    assert browser.post("/login/code", {"code": code}).status_code == 302
    assert signed_in(browser)
    log_out(browser)

    sign_in(browser, "caseworker")
    browser.get("/login/code")
    assert browser.post("/login/code", {"code": code}).status_code == 401  # a code is never accepted twice


def test_the_code_step_is_throttled_and_the_right_password_does_not_restart_it(app, login_to, clock) -> None:  # noqa: ANN001
    browser = login_to(app, "caseworker")
    totp, _codes = enrol(browser)
    log_out(browser)
    wrong = "000000" if totp.now() != "000000" else "111111"
    for _ in range(FREE_PER_ACCOUNT):
        sign_in(browser, "caseworker")  # the right password each time, then a wrong code
        browser.get("/login/code")
        refused = browser.post("/login/code", {"code": wrong}, environ_base={"REMOTE_ADDR": OWNER})
        assert refused.status_code == 401 and alert(refused) == WRONG_CODE
    sign_in(browser, "caseworker")
    browser.get("/login/code")
    resting = browser.post("/login/code", {"code": next_code(totp)}, environ_base={"REMOTE_ADDR": OWNER})
    assert resting.status_code == 401 and alert(resting) == wait_message(1) and not signed_in(browser)
    in_french = browser.post(
        "/login/code", {"code": next_code(totp)}, environ_base={"REMOTE_ADDR": OWNER}, headers={"Accept-Language": "fr"}
    )
    assert alert(in_french) == wait_message(1, "fr") and not signed_in(browser)


def test_an_hq_administrator_resets_a_second_factor_and_it_is_recorded(app, login_to, demo) -> None:  # noqa: ANN001
    caseworker = login_to(app, "caseworker")
    enrol(caseworker)
    log_out(caseworker)

    admin = login_to(app, "admin")  # a mission administrator, not an HQ one
    assert admin.get("/admin/second-factor").status_code == 404
    assert admin.post("/admin/second-factor/caseworker/reset").status_code == 404

    hq = login_to(app, "hq")
    page = text(hq.get("/admin/second-factor"))
    assert 'data-user="caseworker"' in page
    assert hq.post("/admin/second-factor/nobody/reset").status_code == 404

    # The first click asks: who, and what the reset does to them; nothing is reset yet.
    asked = hq.post("/admin/second-factor/caseworker/reset")
    assert asked.status_code == 200
    with demo.factory() as s:
        display_name = s.scalar(sa.select(User.display_name).where(User.username == "caseworker"))
        assert s.scalar(sa.select(User.second_factor_since).where(User.username == "caseworker")) is not None
        assert s.scalars(sa.select(AdminAction)).first() is None
    consequence = "will have to enrol again at their next sign-in; their recovery codes stop working."
    assert html.unescape(text(asked)).count(f"{display_name} (caseworker) {consequence}") == 1
    confirm = r'<input type="hidden" name="confirmed" value="yes">\s*<button type="submit">Yes, reset</button>'
    assert re.search(confirm, text(asked))
    assert re.search(r'<a href="/admin/second-factor">Cancel</a>', text(asked))  # back to the list, nothing done
    in_french = hq.post("/admin/second-factor/caseworker/reset", headers={"Accept-Language": "fr"})
    assert "devra configurer à nouveau son second facteur" in html.unescape(text(in_french))
    assert "Oui, réinitialiser" in text(in_french)

    assert hq.post("/admin/second-factor/caseworker/reset", {"confirmed": "yes"}).status_code == 302
    assert "The second factor of caseworker is reset." in text(hq.get("/admin/second-factor"))
    with demo.factory() as s:
        action = s.scalars(sa.select(AdminAction)).one()
        assert (action.actor, action.action, action.target) == ("hq", "second_factor_reset", "caseworker")
        assert s.scalar(sa.select(User.totp_secret).where(User.username == "caseworker")) is None

    assert sign_in(caseworker, "caseworker").headers["Location"].endswith("/")  # the password alone again
    assert signed_in(caseworker)


def test_users_reset_2fa_resets_from_the_command_line_as_a_named_hq_administrator(
    app, login_to, demo, database_url
) -> None:  # noqa: ANN001
    enrol(login_to(app, "caseworker"))
    runner = CliRunner()
    refused = runner.invoke(main, ["--database", database_url, "users", "reset-2fa", "caseworker", "--as", "admin"])
    assert refused.exit_code == 1 and "not an HQ administrator" in refused.output
    done = runner.invoke(main, ["--database", database_url, "users", "reset-2fa", "caseworker", "--as", "hq"])
    assert done.exit_code == 0, done.output
    with demo.factory() as s:
        action = s.scalars(sa.select(AdminAction)).one()
        assert (action.actor, action.target) == ("hq", "caseworker")


def test_administrators_must_enrol_at_their_next_sign_in_when_the_host_requires_it(demo, login_to) -> None:  # noqa: ANN001
    app = create_app(demo, {"TESTING": True, "REQUIRE_SECOND_FACTOR_FOR": "hq,admin"})
    for username in ("admin", "hq"):
        browser = login_to(app)
        first = sign_in(browser, username)
        assert first.headers["Location"].endswith("/account/second-factor")
        elsewhere = browser.get("/m/THA/beneficiaries")
        assert elsewhere.status_code == 302 and elsewhere.headers["Location"].endswith("/account/second-factor")
        assert "You must set up a second factor before you go on." in text(browser.get("/account/second-factor"))
        enrol(browser)
        assert signed_in(browser)

    caseworker = login_to(app)  # neither an HQ nor a mission administrator
    assert sign_in(caseworker, "caseworker").headers["Location"].endswith("/")
    assert signed_in(caseworker)


def test_only_hq_is_required_when_the_setting_says_so_and_a_wrong_setting_stops_the_start(demo, login_to) -> None:  # noqa: ANN001
    app = create_app(demo, {"TESTING": True, "REQUIRE_SECOND_FACTOR_FOR": "hq"})
    assert sign_in(login_to(app), "admin").headers["Location"].endswith("/")
    assert sign_in(login_to(app), "hq").headers["Location"].endswith("/account/second-factor")
    with pytest.raises(ValueError, match="MIMOSA_REQUIRE_SECOND_FACTOR_FOR"):
        create_app(demo, {"REQUIRE_SECOND_FACTOR_FOR": "everyone"})


def test_the_enrolment_shows_the_key_as_a_qr_code_of_the_link_an_app_reads_and_as_text(app, login_to) -> None:  # noqa: ANN001
    browser = login_to(app, "caseworker")
    browser.get("/account/second-factor")
    browser.post("/account/second-factor/start")
    page = text(browser.get("/account/second-factor"))
    uri = html.unescape(re.search(r'<code class="uri">([^<]+)</code>', page).group(1))
    secret = re.search(r'<code class="secret">([A-Z2-7]+)</code>', page).group(1)  # still there, to be typed
    assert uri.startswith("otpauth://totp/MiMOSA:caseworker?") and f"secret={secret}" in uri

    svgs = re.findall(r"<svg\b[^>]*>.*?</svg>", page, re.S)
    assert len(svgs) == 1
    qr = svgs[0]
    opening = re.match(r"<svg\b[^>]*>", qr).group(0)
    assert 'role="img"' in opening and 'aria-label="QR code to scan with your authenticator app"' in opening
    assert "style" not in qr  # the Content-Security-Policy forbids inline styles: none is needed
    # The modules drawn are those of the link shown as text, as segno encodes it.
    expected = segno.make(uri, micro=False).svg_inline(scale=second_factor_pages.QR_SCALE, dark="#000", light="#fff")
    assert re.findall(r' d="([^"]+)"', qr) == re.findall(r' d="([^"]+)"', expected)
    assert len(re.findall(r' d="([^"]+)"', qr)) == 2  # the light background, then the dark modules

    in_french = text(browser.get("/account/second-factor", headers={"Accept-Language": "fr"}))
    assert 'aria-label="Code QR à scanner avec votre application d’authentification"' in in_french


def test_a_wrong_confirmation_code_names_the_field_and_enrols_nothing(app, login_to, demo) -> None:  # noqa: ANN001
    browser = login_to(app, "caseworker")
    browser.get("/account/second-factor")
    browser.post("/account/second-factor/start")
    browser.get("/account/second-factor")
    refused = browser.post("/account/second-factor/confirm", {"code": "12345x"})
    assert refused.status_code == 422 and "Code: this is not the code your app shows now." in text(refused)
    with demo.factory() as s:
        assert s.scalar(sa.select(User.second_factor_since).where(User.username == "caseworker")) is None
