"""The host's web shell: login, the mission frame, record pages, plugin pages and admin.

Every mission-scoped URL starts with ``/m/<mission>/``; the host answers 404 when the
user holds no role in that mission. Plugin blueprints are mounted at
``/m/<mission>/plugins/<plugin name>/`` and answer 404 where the plugin is disabled.
"""

from __future__ import annotations

import functools
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

import flask
from babel.dates import format_date, format_datetime
from flask import Flask, abort, g, request, session
from flask_wtf.csrf import CSRFError, CSRFProtect, generate_csrf
from markupsafe import Markup

from .. import codes, i18n
from ..accounts import build_context, granted_roles, user_missions
from ..models import Mission, User
from ..plugin_api import Page, bind_context, unbind_context
from ..runtime import Runtime

IDLE_TIMEOUT = timedelta(minutes=15)
ABSOLUTE_TIMEOUT = timedelta(hours=8)

csrf = CSRFProtect()


def runtime() -> Runtime:
    return flask.current_app.extensions["mimosa"]


def create_app(rt: Runtime, config: dict[str, Any] | None = None) -> Flask:
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=secrets.token_hex(32),
        SESSION_COOKIE_NAME="__Host-mimosa",
        SESSION_COOKIE_SECURE=True,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the session, which times out itself
        MAX_CONTENT_LENGTH=2 * 1024 * 1024,
    )
    app.config.update(config or {})
    app.extensions["mimosa"] = rt
    csrf.init_app(app)
    _install_jinja(app)

    from . import admin, auth, records

    app.register_blueprint(auth.bp)
    app.register_blueprint(records.bp, url_prefix="/m/<mission>")
    app.register_blueprint(admin.bp, url_prefix="/m/<mission>/admin")
    _mount_plugins(app, rt)

    app.before_request(_load_user)
    app.before_request(_enter_mission)
    app.url_defaults(_default_mission)
    app.teardown_request(_leave_mission)
    app.after_request(_security_headers)
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(404, lambda e: _error_page(404, i18n.N_("Page not found.")))
    app.register_error_handler(413, lambda e: _error_page(413, i18n.N_("The request is too large.")))
    return app


# -- per request ------------------------------------------------------------------------


def _now() -> datetime:
    return datetime.now(UTC)


def _load_user() -> None:
    g.locale = session.get("locale") or request.accept_languages.best_match(i18n.LOCALES) or i18n.DEFAULT_LOCALE
    g.user = None
    uid = session.get("uid")
    if uid is None:
        return
    now = _now().timestamp()
    stale = now - session.get("seen", 0) > IDLE_TIMEOUT.total_seconds() or (
        now - session.get("since", 0) > ABSOLUTE_TIMEOUT.total_seconds()
    )
    with runtime().factory() as s:
        user = s.get(User, uid)
    if stale or user is None or not user.active or user.session_epoch != session.get("epoch"):
        locale = session.get("locale")
        session.clear()
        if locale:
            session["locale"] = locale
        return
    session["seen"] = now
    g.user = user


def _enter_mission() -> None:
    values = request.view_args
    if not values or "mission" not in values:
        return
    code = values.pop("mission")
    if g.user is None:
        abort(flask.redirect(flask.url_for("auth.login", next=request.full_path)))
    rt = runtime()
    with rt.factory() as s:
        mission = s.get(Mission, code)
        if mission is None or not granted_roles(s, g.user.id, code):
            abort(404)
        ctx, enabled = build_context(s, rt.host, rt.factory, mission, g.user, g.locale, generate_csrf)
    g.mission, g.ctx, g.enabled = mission, ctx, enabled
    g.context_token = bind_context(ctx)
    session["mission"] = code
    plugin = app_plugin_of(request.blueprint)
    if plugin is not None and plugin not in enabled:
        abort(404)


def _default_mission(endpoint: str, values: dict[str, Any]) -> None:
    mission = getattr(g, "mission", None)
    if (
        mission is not None
        and "mission" not in values
        and flask.current_app.url_map.is_endpoint_expecting(endpoint, "mission")
    ):
        values["mission"] = mission.code


def _leave_mission(_exc: BaseException | None) -> None:
    token = g.pop("context_token", None)
    if token is not None:
        unbind_context(token)


def _security_headers(response: flask.Response) -> flask.Response:
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    # same-origin, not no-referrer: Flask-WTF checks the Referer of HTTPS form posts.
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Strict-Transport-Security"] = "max-age=31536000"
    if response.mimetype == "text/html":
        response.headers["Cache-Control"] = "no-store"
    return response


def _csrf_error(_exc: CSRFError) -> tuple[str, int]:
    return _error_page(
        400, i18n.N_("The form has expired or did not come from this site. Reload the page and try again.")
    )


def _error_page(status: int, message: str) -> tuple[str, int]:
    return flask.render_template("error.html", status=status, message=message), status


# -- plugins ----------------------------------------------------------------------------

_PLUGIN_OF_BLUEPRINT = "mimosa.plugin_of_blueprint"


def app_plugin_of(blueprint: str | None, app: Flask | None = None) -> str | None:
    """The plugin that owns a blueprint (or an endpoint ``blueprint.view``), if any."""
    if blueprint is None:
        return None
    return (app or flask.current_app).extensions[_PLUGIN_OF_BLUEPRINT].get(blueprint.split(".")[0])


def _mount_plugins(app: Flask, rt: Runtime) -> None:
    owners: dict[str, str] = {}
    app.extensions[_PLUGIN_OF_BLUEPRINT] = owners
    for plugin_name, blueprints in rt.host.call_each("mimosa_blueprints"):
        for bp in blueprints or ():
            app.register_blueprint(bp, url_prefix=f"/m/<mission>/plugins/{plugin_name}")
            owners[bp.name] = plugin_name
    for endpoint, view in list(app.view_functions.items()):
        if app_plugin_of(endpoint, app) is not None:
            app.view_functions[endpoint] = _render_pages(view)


def _render_pages(view):  # noqa: ANN001, ANN202 - wraps any Flask view
    """Let plugin views return a :class:`Page`; the host renders it inside its frame."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        result = view(*args, **kwargs)
        if not isinstance(result, Page):
            return result
        from .records import render_record_page

        plugin = app_plugin_of(request.blueprint)
        if result.record_type is not None:
            return render_record_page(result.record_type, result.record_ref, result, plugin), result.status
        return flask.render_template("page.html", page=result, body=plugin_html(result), plugin=plugin), result.status

    return wrapper


def plugin_html(page: Page) -> Markup:
    """A page's body as the plugin rendered it; the contract makes the plugin escape its own values."""
    return Markup(page.body)  # noqa: S704 - see above


def plugin_catalogs(plugin_name: str | None) -> list[tuple[str, str]]:
    if plugin_name is None:
        return []
    translations = runtime().host.call_one(plugin_name, "mimosa_translations")
    return [(translations.directory, translations.domain)] if translations else []


def plugin_text(plugin_name: str | None, message: str) -> str:
    """A plugin's label or message in the viewer's language."""
    return i18n.translate_for(plugin_catalogs(plugin_name), message)


# -- templates --------------------------------------------------------------------------


def _install_jinja(app: Flask) -> None:
    app.jinja_env.add_extension("jinja2.ext.i18n")
    # Jinja's new-style gettext formats the placeholders itself, escaping the values.
    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]
        lambda message: i18n.translation().gettext(message),
        lambda singular, plural, n: i18n.translation().ngettext(singular, plural, n),
        newstyle=True,
    )
    app.jinja_env.filters.update(
        date=lambda value: format_date(value, format="medium", locale=i18n.current_locale()) if value else "—",
        # Stored times are UTC (SQLite hands them back naive); say so rather than guess a zone.
        datetime=lambda value: (
            f"{format_datetime(value, format='medium', tzinfo=UTC, locale=i18n.current_locale())} UTC" if value else "—"
        ),
    )
    app.jinja_env.globals.update(
        code=lambda kind, value: i18n.gettext(codes.label(kind, value)),
        plugin_text=plugin_text,
        locales=i18n.LOCALES,
        locale_names={"en": "English", "fr": "Français", "es": "Español"},
    )
    app.context_processor(_frame_context)


def _frame_context() -> dict[str, Any]:
    user = getattr(g, "user", None)
    if user is None:
        return {"user": None, "missions": [], "mission": None, "menu": []}
    with runtime().factory() as s:
        missions = user_missions(s, user.id)
    mission = getattr(g, "mission", None)
    menu = _menu_items() if mission is not None else []
    return {"user": user, "missions": missions, "mission": mission, "menu": menu, "ctx": getattr(g, "ctx", None)}


def _menu_items() -> list[tuple[str, Any]]:
    items = [
        (plugin_name, item)
        for plugin_name, result in runtime().host.call_each("mimosa_menu_items", names=g.enabled, ctx=g.ctx)
        for item in result or ()
    ]
    return sorted(items, key=lambda pair: (pair[1].order, pair[1].id))
