"""Login (the password step; the second factor's code is :mod:`.second_factor_pages`'s), logout, the language
switch, and the landing redirect."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import flask
from flask import Blueprint, g, redirect, request, session, url_for
from werkzeug.wrappers import Response as WerkzeugResponse

from .. import i18n, second_factor, throttle
from ..accounts import authenticate, user_missions
from ..context import build_context
from ..db import transaction
from ..inputs import is_identifier
from ..models import Mission, User
from ..plugin_api import bind_context, unbind_context
from ..roles import VIEW_RECORDS
from . import _now, request_db, runtime

bp = Blueprint("auth", __name__)
USERNAME_LENGTH = 80
WRONG_PASSWORD = i18n.N_("Wrong username or password.")
"""The same answer for an unknown username, a wrong password and an inactive account."""


def too_many_attempts(rest: throttle.Resting) -> str:
    """What an attempt turned away by the throttle reads: how many minutes to wait (rounded up)."""
    return i18n.ngettext(
        "Too many attempts from this address: try again in %(minutes)d minute.",
        "Too many attempts from this address: try again in %(minutes)d minutes.",
        rest.minutes,
        minutes=rest.minutes,
    )


def _safe_next(target: str | None) -> str | None:
    """Only same-site paths: an open redirect would hand a logged-in user to anyone.

    Browsers read a backslash as a slash (``/\\evil.example`` is ``//evil.example``) and drop
    tabs and newlines from URLs, so a target holding any of them is refused too.
    """
    if not target or "\\" in target or any(ord(c) < 0x20 or ord(c) == 0x7F for c in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


@bp.route("/")
def home():
    """To the beneficiary list of the last mission used, or of the first where the user may see records; for a
    user who may see none (a researcher), to the first page a plugin's menu offers them."""
    if g.user is None:
        return redirect(url_for("auth.login"))
    db = request_db()
    with db.session() as s:
        missions = user_missions(s, g.user.id)
        last = session.get("mission")
        missions.sort(key=lambda m: m.code != last)
        for mission in missions:
            ctx, _enabled = build_context(s, runtime().host, db.plugin_session, mission, g.user, g.locale)
            if ctx.can(VIEW_RECORDS):
                return redirect(url_for("records.beneficiaries", mission=mission.code))
        for mission in missions:  # no records to see: the first page a plugin's menu offers there (e.g. trends)
            target = _first_menu_item(s, db, mission)
            if target is not None:
                return redirect(target)
    message = (
        i18n.N_("Nothing in your missions is open to you here yet.")
        if missions
        else i18n.N_("You hold no role in any mission yet.")
    )
    from . import ERROR_TITLES  # the package imports this module

    return flask.render_template("error.html", title=ERROR_TITLES[200], message=message), 200


def _first_menu_item(s: Any, db: Any, mission: Mission) -> str | None:
    """The address of the first entry the enabled plugins' menus give the user in ``mission``, if any: asked as
    the mission's frame asks it, with the mission's context bound."""
    ctx, enabled = build_context(
        s, runtime().host, db.plugin_session, mission, g.user, g.locale, host_sessions=db.session
    )
    if not enabled:
        return None
    token = bind_context(ctx)
    g.mission = mission
    try:
        items = runtime().host.call_mission("mimosa_menu_items", enabled, ctx=ctx)
    finally:
        g.pop("mission", None)
        unbind_context(token)
    first = min(items, key=lambda pair: (pair[1].order, pair[1].id), default=None)
    return first[1].url if first else None


def client_address() -> str:
    """The client's address as the sign-in throttle counts it: the socket's peer, or what the trusted proxies saw."""
    return throttle.client_key(request.remote_addr)


@bp.route("/login", methods=["GET", "POST"])
def login():
    error = None
    if request.method == "POST":
        username = request.form.get("username", "").strip()
        password = request.form.get("password", "")
        # A name no account can have is checked as the unknown user "": same answer, same cost.
        known_shape = is_identifier(username, USERNAME_LENGTH)
        user = authenticate(runtime().factory, username if known_shape else "", password, client_address(), _now())
        if isinstance(user, throttle.Resting):
            error = too_many_attempts(user)
        elif user is None:
            error = i18n.gettext(WRONG_PASSWORD)
        elif second_factor.enrolled(user):
            _fresh_session()
            session["pending"] = {"uid": user.id, "epoch": user.session_epoch, "at": _now().timestamp()}
            session["next"] = _safe_next(request.args.get("next"))
            return redirect(url_for("second_factor.code"))
        else:
            return signed_in(user, _safe_next(request.args.get("next")))
    username = request.form.get("username", "") if error else ""
    return flask.render_template("login.html", error=error, username=username), (401 if error else 200)


def signed_in(user: User, next_url: str | None) -> WerkzeugResponse:
    """Open the user's session (a fresh one: nothing from before survives) and send them on: to enrol in a
    second factor first if the host requires one of them."""
    _fresh_session()
    stamp = _now().timestamp()
    session.update(uid=user.id, epoch=user.session_epoch, since=stamp, seen=stamp)
    with request_db().session() as s:
        if second_factor.must_enrol(s, user, flask.current_app.config["REQUIRE_SECOND_FACTOR_FOR"]):
            session["enrol"] = True
            return redirect(url_for("second_factor.account"))
    return redirect(next_url or url_for("auth.home"))


def _fresh_session() -> None:
    """An empty session that keeps only the language chosen."""
    locale = session.get("locale")
    session.clear()
    if locale:
        session["locale"] = locale


@bp.route("/logout", methods=["POST"])
def logout():
    if g.user is not None:
        with transaction(request_db().session) as s:
            s.get_one(User, g.user.id).session_epoch += 1
    _fresh_session()
    return redirect(url_for("auth.login"))


@bp.route("/locale", methods=["POST"])
def set_locale():
    chosen = request.form.get("locale")
    if chosen in i18n.LOCALES:
        session["locale"] = chosen
    return redirect(_safe_next(request.form.get("next")) or url_for("auth.home"))
