"""The second factor's pages: the code asked after the password, the user's own enrolment, and the HQ
administrator's list of users with its reset (see :mod:`mimosa_host.second_factor`)."""

from __future__ import annotations

from datetime import timedelta

import flask
import segno
import sqlalchemy as sa
from flask import Blueprint, abort, flash, g, redirect, request, session, url_for
from markupsafe import Markup, escape
from werkzeug.wrappers import Response as WerkzeugResponse

from .. import i18n, second_factor, throttle
from ..db import transaction
from ..inputs import is_identifier
from ..models import User
from . import _now, request_db, runtime
from .auth import client_address, signed_in, too_many_attempts

bp = Blueprint("second_factor", __name__)
QR_SCALE = 4
"""Pixels per module of the enrolment's QR code: about 180 px wide, readable from a screen, within a phone's width."""
PENDING_FOR = timedelta(minutes=5)
"""How long the code step waits after the right password before the password must be typed again."""
CODE_LENGTH = 40
"""Longer than any code or recovery code, spaces and hyphens included."""
OPEN_WHILE_ENROLLING = frozenset(
    {
        "second_factor.account",
        "second_factor.start",
        "second_factor.confirm",
        "auth.logout",
        "auth.set_locale",
        "static",
    }
)
WRONG_CODE = i18n.N_("The code is wrong or was already used.")


def enrol_first() -> WerkzeugResponse | None:
    """A user the host requires to enrol sees nothing else until they have."""
    if g.get("user") is not None and session.get("enrol") and request.endpoint not in OPEN_WHILE_ENROLLING:
        return redirect(url_for("second_factor.account"))
    return None


# -- the code after the password --------------------------------------------------------


@bp.route("/login/code", methods=["GET", "POST"])
def code():
    user = _pending_user()
    if user is None:
        session.pop("pending", None)
        return redirect(url_for("auth.login"))
    error = None
    if request.method == "POST":
        typed = request.form.get("code", "")
        accepted = _accepted(user, typed) if is_identifier(typed, CODE_LENGTH) else False
        if accepted is True:
            return signed_in(user, session.get("next"))
        error = too_many_attempts(accepted) if isinstance(accepted, throttle.Resting) else i18n.gettext(WRONG_CODE)
    return flask.render_template("login_code.html", error=error), (401 if error else 200)


def _pending_user() -> User | None:
    """The user whose password was right a moment ago in this session, if they still may sign in."""
    pending = session.get("pending")
    if not isinstance(pending, dict) or _now().timestamp() - pending.get("at", 0) > PENDING_FOR.total_seconds():
        return None
    with request_db().session() as s:
        user = s.get(User, pending.get("uid"))
    if (
        user is None
        or not user.active
        or user.session_epoch != pending.get("epoch")
        or not second_factor.enrolled(user)
    ):
        return None
    return user


def _accepted(user: User, typed: str) -> bool | throttle.Resting:
    """The code step, throttled like the password's but counted on its own (see :mod:`mimosa_host.throttle`):
    whether the code is accepted, or the rest that turned it away unchecked."""
    factory, now = runtime().factory, _now()
    attempt = throttle.claim(factory, client_address(), user.username, throttle.CODE, now)
    if isinstance(attempt, throttle.Resting):
        return attempt
    with transaction(factory) as s:
        accepted = second_factor.accept(s, s.get_one(User, user.id), typed, now)
    if accepted:
        throttle.succeeded(factory, attempt)
    return accepted


# -- the user's own enrolment --------------------------------------------------------------


def _signed_in_user() -> User:
    if g.user is None:
        abort(redirect(url_for("auth.login", next=request.path)))
    return g.user


@bp.route("/account/second-factor")
def account():
    user = _signed_in_user()
    with request_db().session() as s:
        left = second_factor.recovery_codes_left(s, user)
    return _account_page(user, left)


def _account_page(user: User, left: int = 0, error: str | None = None, status: int = 200) -> tuple[str, int]:
    secret = None if second_factor.enrolled(user) else second_factor.shared_secret(user)
    uri = second_factor.provisioning_uri(user) if secret is not None else None
    return flask.render_template(
        "second_factor.html",
        enrolled=second_factor.enrolled(user),
        required=bool(session.get("enrol")),
        codes_left=left,
        secret=secret,
        uri=uri,
        qr=qr_code(uri, i18n.gettext("QR code to scan with your authenticator app")) if uri else None,
        error=error,
    ), status


def qr_code(uri: str, label: str) -> Markup:
    """``uri`` as a QR code in inline SVG, named ``label`` for screen readers. It carries no ``style`` attribute
    (the Content-Security-Policy forbids inline styles), only SVG's own presentation attributes."""
    svg = segno.make(uri, micro=False).svg_inline(scale=QR_SCALE, dark="#000", light="#fff", svgclass="qr")
    assert svg.startswith("<svg ")
    drawn = Markup(svg.removeprefix("<svg "))  # noqa: S704 - segno's own attributes and path data, no text of the URI
    return Markup('<svg role="img" aria-label="{}" {}').format(escape(label), drawn)


@bp.route("/account/second-factor/start", methods=["POST"])
def start():
    user = _signed_in_user()
    if not second_factor.enrolled(user):
        with transaction(request_db().session) as s:
            second_factor.begin_enrolment(s, s.get_one(User, user.id))
    return redirect(url_for("second_factor.account"))


@bp.route("/account/second-factor/confirm", methods=["POST"])
def confirm():
    user = _signed_in_user()
    typed = request.form.get("code", "").strip()
    with transaction(request_db().session) as s:
        stored = s.get_one(User, user.id)
        codes = second_factor.confirm(s, stored, typed, _now()) if is_identifier(typed, CODE_LENGTH) else None
    if codes is None:
        return _account_page(user, error=i18n.N_("Code: this is not the code your app shows now."), status=422)
    session.pop("enrol", None)
    return flask.render_template("second_factor_codes.html", codes=codes)


# -- HQ administrators: users' second factors and their reset -----------------------------------


def _hq_admin() -> User:
    user = g.get("user")
    if user is None or not user.is_hq_admin:
        abort(404)
    return user


@bp.route("/admin/second-factor")
def users():
    _hq_admin()
    with request_db().session() as s:
        listed = list(s.scalars(sa.select(User).order_by(User.username)))
    return flask.render_template("second_factor_users.html", users=listed)


@bp.route("/admin/second-factor/<username>/reset", methods=["POST"])
def reset(username: str):
    """Asks first (what the reset does to the user), then resets on the confirmed post, recorded as the admin's."""
    admin = _hq_admin()
    with transaction(request_db().session) as s:
        user = s.scalar(sa.select(User).where(User.username == username))
        if user is None:
            abort(404)
        if request.form.get("confirmed") != "yes":
            return flask.render_template("second_factor_reset.html", user=user)
        second_factor.reset(s, user, admin.username, _now())
    flash(i18n.gettext("The second factor of %(username)s is reset.", username=username), "success")
    return redirect(url_for("second_factor.users"))
