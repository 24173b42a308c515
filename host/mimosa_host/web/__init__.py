"""The host's web shell: login, the mission frame, record pages, plugin pages and admin.

Every mission-scoped URL starts with ``/m/<mission>/``; the host answers 404 when the
user holds no role in that mission. Plugin blueprints are mounted at
``/m/<mission>/plugins/<plugin name>/`` and answer 404 where the plugin is disabled.
"""

from __future__ import annotations

import functools
import logging
import os
import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Any

import flask
from babel.dates import format_date, format_datetime
from flask import Blueprint, Flask, abort, g, request, session
from flask_wtf.csrf import CSRFError, CSRFProtect, generate_csrf
from markupsafe import Markup, escape
from sqlalchemy.orm import Session
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.dispatcher import DispatcherMiddleware
from werkzeug.middleware.proxy_fix import ProxyFix

from .. import codes, i18n, second_factor
from ..accounts import granted_roles, user_missions
from ..context import build_context
from ..db import SharedConnection
from ..inputs import is_identifier
from ..logs import exception_summary
from ..models import Mission, User
from ..plugin_api import Page, bind_context, unbind_context
from ..plugins import Problem
from ..roles import VIEW_RECORDS
from ..runtime import Runtime
from ..soap.app import SoapApp
from .machine import MachineApp

IDLE_TIMEOUT = timedelta(minutes=15)
ABSOLUTE_TIMEOUT = timedelta(hours=8)
SECRET_KEY_ENV = "MIMOSA_SECRET_KEY"  # noqa: S105 - the name of the variable, not a key
TRUSTED_PROXIES_ENV = "MIMOSA_TRUSTED_PROXIES"
"""How many proxies in front of the host append to ``X-Forwarded-For`` (default 0: the header is ignored)."""

log = logging.getLogger(__name__)
csrf = CSRFProtect()


class HostFlask(Flask):
    """Flask, logging an unhandled exception without its message (which may hold case data)."""

    def log_exception(self, exc_info: tuple[type, BaseException, TracebackType] | tuple[None, None, None]) -> None:
        summary = exception_summary(exc_info[1]) if exc_info[1] is not None else "unknown error"
        self.logger.error("Exception on %s [%s]: %s", request.path, request.method, summary)


def runtime() -> Runtime:
    return flask.current_app.extensions["mimosa"]


def request_db() -> SharedConnection:
    """The request's one database connection, shared by the host's sessions and the plugins' (see
    :class:`~mimosa_host.db.SharedConnection`); given back to the pool when the request ends."""
    shared = g.get("db")
    if shared is None:
        shared = g.db = SharedConnection(runtime().engine)
    return shared


def create_app(rt: Runtime, config: dict[str, Any] | None = None) -> Flask:
    app = HostFlask(__name__)
    app.config.update(
        # Without MIMOSA_SECRET_KEY, a random key per process: sessions end when the process does,
        # and processes serving the same site would not accept each other's sessions.
        SECRET_KEY=os.environ.get(SECRET_KEY_ENV) or secrets.token_hex(32),
        SESSION_COOKIE_NAME="__Host-mimosa",
        SESSION_COOKIE_SECURE=True,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the session, which times out itself
        MAX_CONTENT_LENGTH=2 * 1024 * 1024,
        TRUSTED_PROXIES=os.environ.get(TRUSTED_PROXIES_ENV, "0"),
        REQUIRE_SECOND_FACTOR_FOR=os.environ.get(second_factor.REQUIRED_ENV, second_factor.REQUIRED_DEFAULT),
    )
    app.config.update(config or {})
    # Settings are checked at start: a typo must not quietly leave sign-in open to a spoofed address or one factor.
    app.config["REQUIRE_SECOND_FACTOR_FOR"] = second_factor.required_groups(
        str(app.config["REQUIRE_SECOND_FACTOR_FOR"])
    )
    proxies = str(app.config["TRUSTED_PROXIES"])
    if not proxies.isdigit():
        raise ValueError(f"{TRUSTED_PROXIES_ENV} must be a number of proxies (0 or more), not {proxies!r}")
    app.extensions["mimosa"] = rt
    csrf.init_app(app)
    _install_jinja(app)

    from . import admin, auth, metrics, records, second_factor_pages

    app.register_blueprint(auth.bp)
    app.register_blueprint(second_factor_pages.bp)
    app.register_blueprint(records.bp, url_prefix="/m/<mission>")
    app.register_blueprint(admin.bp, url_prefix="/m/<mission>/admin")
    metrics.configure(app)  # GET /metrics, for the monitoring system (MIMOSA_METRICS_TOKEN, or loopback only)
    _mount_plugins(app, rt)

    app.before_request(_refuse_unreadable_path)
    app.before_request(_check_request)
    app.before_request(second_factor_pages.enrol_first)
    app.url_defaults(_default_mission)
    # Flask runs teardown functions in reverse order, the plugins' blueprints' first: registered
    # first, _close_db runs last, once no teardown function may still use the request's sessions.
    app.teardown_request(_close_db)
    app.teardown_request(_leave_mission)
    app.after_request(_security_headers)
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(
        404, lambda e: _error_page(404, i18n.N_("The page does not exist, or it is not open to you."))
    )
    app.register_error_handler(405, lambda e: _error_page(405, i18n.N_("This page cannot do that.")))
    app.register_error_handler(500, _server_error)
    app.register_error_handler(413, lambda e: _error_page(413, i18n.N_("The request is too large.")))
    # The SOAP services answer /soap/... before Flask sees the request: no session, no CSRF, no cookie.
    soap = app.extensions["mimosa_soap"] = SoapApp(rt.factory)
    # Plugins' machine routes (mimosa_machine_routes) likewise: each request authenticates itself to its plugin.
    machine = app.extensions["mimosa_machine"] = MachineApp(rt)
    app.wsgi_app = DispatcherMiddleware(app.wsgi_app, {"/soap": soap, "/machine": machine})  # type: ignore[method-assign]
    if int(proxies):
        # The client is the address the trusted proxies saw; without them, the socket's peer (the header is
        # anyone's to write). The sign-in throttle counts failures against it.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=int(proxies))  # type: ignore[method-assign]
    return app


# -- per request ------------------------------------------------------------------------


def _now() -> datetime:
    return datetime.now(UTC)


MAX_PATH_VALUE = 200
"""Longer than any mission code, record ID or plugin name a URL may hold."""


def _refuse_unreadable_path() -> None:
    """A URL part that no mission, record or plugin can be named by is 404 before any query reads it."""
    values = request.view_args or {}
    if any(isinstance(v, str) and not is_identifier(v, MAX_PATH_VALUE) for v in values.values()):
        abort(404)


def _check_request() -> None:
    """Who asks, in which mission, for what: one short host transaction, over before any plugin code runs."""
    with request_db().session() as s:
        _load_user(s)
        _enter_mission(s)


def _load_user(s: Session) -> None:
    g.locale = session.get("locale") or request.accept_languages.best_match(i18n.LOCALES) or i18n.DEFAULT_LOCALE
    g.user = None
    uid = session.get("uid")
    if uid is None:
        return
    now = _now().timestamp()
    stale = now - session.get("seen", 0) > IDLE_TIMEOUT.total_seconds() or (
        now - session.get("since", 0) > ABSOLUTE_TIMEOUT.total_seconds()
    )
    user = s.get(User, uid)
    if stale or user is None or not user.active or user.session_epoch != session.get("epoch"):
        locale = session.get("locale")
        session.clear()
        if locale:
            session["locale"] = locale
        return
    session["seen"] = now
    g.user = user


def _enter_mission(s: Session) -> None:
    values = request.view_args
    if not values or "mission" not in values:
        return
    code = values.pop("mission")
    if g.user is None:
        abort(flask.redirect(flask.url_for("auth.login", next=request.full_path)))
    mission = s.get(Mission, code)
    if mission is None or not granted_roles(s, g.user.id, code):
        abort(404)
    plugin = app_plugin_of(request.blueprint)
    ctx, enabled = build_context(
        s,
        runtime().host,
        request_db().plugin_session,
        mission,
        g.user,
        g.locale,
        generate_csrf,
        plugin,
        host_sessions=request_db().session,
    )
    g.mission, g.ctx, g.enabled = mission, ctx, enabled
    g.context_token = bind_context(ctx)
    session["mission"] = code
    if plugin is None:
        return
    if plugin not in enabled or not _record_admitted(s, values):
        abort(404)
    g.plugin_admitted = plugin  # from here on the plugin's own request handlers run (see _gate_handlers)


def _record_admitted(s: Session, values: dict[str, Any]) -> bool:
    """For a plugin URL naming a host record (``.../records/<record_type>/<record_ref>/...``): does the
    record exist in the request's mission, and may the user see the host's records?"""
    rule = request.url_rule
    if rule is None or not {"record_type", "record_ref"} <= rule.arguments:
        return True
    from .records import admit_record

    return g.ctx.can(VIEW_RECORDS) and admit_record(
        s, values.get("record_type"), values.get("record_ref"), g.mission.code
    )


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


def _close_db(_exc: BaseException | None) -> None:
    shared = g.pop("db", None)
    if shared is not None:
        shared.close()


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


ERROR_TITLES = {
    200: i18n.N_("Nothing to show yet"),
    400: i18n.N_("The form could not be used"),
    404: i18n.N_("Page not found"),
    405: i18n.N_("Not allowed"),
    413: i18n.N_("Request too large"),
    500: i18n.N_("Something went wrong"),
}
"""What an error page is titled by: what happened, in words, not its status number."""


def _error_page(status: int, message: str) -> tuple[str, int]:
    title = ERROR_TITLES.get(status, ERROR_TITLES[500])
    return flask.render_template("error.html", title=title, message=message), status


def _server_error(_exc: Exception) -> tuple[str, int]:
    """A failure (already logged by type and frames): the host's frame if it can still be drawn, else plain."""
    message = i18n.N_("The page could not be shown. Try again; if it happens again, tell your administrator.")
    try:
        return _error_page(500, message)
    except Exception:  # noqa: BLE001 - the frame itself may be what fails (e.g. the database is gone)
        title = escape(i18n.gettext(ERROR_TITLES[500]))
        return f"<!doctype html><title>{title}</title><h1>{title}</h1><p>{escape(i18n.gettext(message))}</p>", 500


# -- plugins ----------------------------------------------------------------------------

_PLUGIN_OF_BLUEPRINT = "mimosa.plugin_of_blueprint"


def app_plugin_of(blueprint: str | None, app: Flask | None = None) -> str | None:
    """The plugin that owns a blueprint (or an endpoint ``blueprint.view``), if any."""
    if blueprint is None:
        return None
    return (app or flask.current_app).extensions[_PLUGIN_OF_BLUEPRINT].get(blueprint.split(".")[0])


def _mount_plugins(app: Flask, rt: Runtime) -> None:
    """Register each plugin's blueprints under ``/m/<mission>/plugins/<name>/``.

    A plugin whose blueprints would act on the whole application (handlers registered with
    ``before_app_request``, ``app_errorhandler`` and the like, or Jinja filters, tests and
    globals), or whose blueprint names are taken, is refused: none of its blueprints is
    mounted and the host never calls it again. The handlers a blueprint registers for itself
    run only where the host has admitted the request to the plugin (see :func:`_gate_handlers`).
    """
    owners: dict[str, str] = {}
    app.extensions[_PLUGIN_OF_BLUEPRINT] = owners
    offered = [(name, list(blueprints or ())) for name, blueprints in rt.host.call_each("mimosa_blueprints")]
    for plugin_name, blueprints in offered:
        prefix = f"/m/<mission>/plugins/{plugin_name}"
        problem = _blueprint_problem(app, blueprints, prefix)
        if problem is not None:
            rt.host.refuse(plugin_name, problem)
            continue
        for bp in blueprints:
            app.register_blueprint(bp, url_prefix=prefix)
            owners[bp.name] = plugin_name
    for endpoint, view in list(app.view_functions.items()):
        if app_plugin_of(endpoint, app) is not None:
            app.view_functions[endpoint] = _render_pages(view)
    _gate_handlers(app)


# The per-request handler registries of a Flask app: the app's own are keyed ``None``, a
# blueprint's by its name.
_REQUEST_HANDLERS = (
    "url_value_preprocessors",
    "url_default_functions",
    "before_request_funcs",
    "after_request_funcs",
    "teardown_request_funcs",
    "template_context_processors",
)


def _app_wide_state(app: Flask) -> dict[str, Any]:
    """Everything a blueprint could change for the whole application."""
    state: dict[str, Any] = {name: list(getattr(app, name).get(None, ())) for name in _REQUEST_HANDLERS}
    state["error handlers"] = {code: dict(by_class) for code, by_class in app.error_handler_spec[None].items()}
    state["teardown_appcontext_funcs"] = list(app.teardown_appcontext_funcs)
    state["template filters"] = dict(app.jinja_env.filters)
    state["template tests"] = dict(app.jinja_env.tests)
    state["template globals"] = dict(app.jinja_env.globals)
    return state


def _blueprint_problem(app: Flask, blueprints: list[Blueprint], prefix: str) -> Problem | None:
    """Why these blueprints may not be mounted, if they may not: probed on a throwaway app first."""
    names: set[str] = set()
    for bp in blueprints:
        if bp.name in app.blueprints or bp.name in names:
            return Problem(i18n.N_("Its blueprint %(blueprint)s has a name already in use."), {"blueprint": bp.name})
        names.add(bp.name)
        probe = Flask("mimosa_probe")
        before = _app_wide_state(probe)
        try:
            probe.register_blueprint(bp, url_prefix=prefix)
        except Exception as exc:  # noqa: BLE001 - a broken plugin must not keep the host down
            log.warning("plugin blueprint %s cannot be registered: %s", bp.name, exception_summary(exc))
            return Problem(i18n.N_("Its blueprint %(blueprint)s cannot be registered."), {"blueprint": bp.name})
        after = _app_wide_state(probe)
        changed = [name for name in before if before[name] != after[name]]
        if changed:
            return Problem(
                i18n.N_("Its blueprint %(blueprint)s registers handlers for the whole application: %(handlers)s"),
                {"blueprint": bp.name, "handlers": ", ".join(changed)},
            )
    return None


def _admitted(plugin: str) -> bool:
    """Whether the host has admitted the current request to ``plugin`` (see :func:`_enter_mission`)."""
    return flask.has_request_context() and g.get("plugin_admitted") == plugin


def _enabled_here(plugin: str) -> bool:
    return flask.has_app_context() and plugin in g.get("enabled", ())


def _gate_handlers(app: Flask) -> None:
    """Make plugin blueprints' own handlers run only for requests the host admitted to the plugin.

    Flask runs a blueprint's URL value preprocessors, ``before_request``, ``after_request`` and
    ``teardown_request`` functions, context processors and error handlers for any request whose
    URL matched one of its routes, even when the host then answers 404 (plugin disabled in the
    mission, no role, record of another mission). Here each of them is wrapped to do nothing
    unless the host admitted the request; URL value preprocessors are moved to the start of the
    blueprint's ``before_request`` functions, so that they too run only after the host's checks.
    URL defaults run where the plugin is enabled in the request's mission.
    """
    for key in [k for k in app.url_value_preprocessors if k is not None]:
        if app_plugin_of(key, app) is not None:
            app.before_request_funcs.setdefault(key, []).insert(0, _url_values(app.url_value_preprocessors.pop(key)))
    for name, gate in _GATES.items():
        registry = getattr(app, name)
        for key, funcs in list(registry.items()):
            plugin = app_plugin_of(key, app) if key is not None else None
            if plugin is not None:
                registry[key] = [gate(app, plugin, func) for func in funcs]
    for owner, by_code in app.error_handler_spec.items():
        plugin = app_plugin_of(owner, app) if owner is not None else None
        if plugin is not None:
            for by_class in by_code.values():
                for cls, handler in by_class.items():
                    by_class[cls] = _gate_error_handler(app, plugin, handler)


def _url_values(funcs: list[Callable[..., None]]) -> Callable[[], None]:
    def run_url_value_preprocessors() -> None:
        for func in funcs:
            func(request.endpoint, request.view_args)

    return run_url_value_preprocessors


def _gate(allowed: Callable[[str], bool], otherwise: Callable[..., Any]) -> Callable[..., Callable[..., Any]]:
    """A wrapper maker: run a plugin's handler when ``allowed(plugin)``, else answer ``otherwise``."""

    def wrap(app: Flask, plugin: str, func: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(func)
        def gated(*args: Any) -> Any:
            return app.ensure_sync(func)(*args) if allowed(plugin) else otherwise(*args)

        return gated

    return wrap


_GATES = {  # every registry of _REQUEST_HANDLERS but the URL value preprocessors, moved away first
    "url_default_functions": _gate(_enabled_here, lambda _endpoint, _values: None),
    "before_request_funcs": _gate(_admitted, lambda: None),
    "after_request_funcs": _gate(_admitted, lambda response: response),
    "teardown_request_funcs": _gate(_admitted, lambda _exc: None),
    "template_context_processors": _gate(_admitted, lambda: {}),
}


def _gate_error_handler(app: Flask, plugin: str, handler: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(handler)
    def gated(exc: Exception) -> Any:
        if _admitted(plugin):
            return app.ensure_sync(handler)(exc)
        host_handler = app._find_error_handler(exc, [])  # the host's own handler for this error
        if host_handler is not None:
            return app.ensure_sync(host_handler)(exc)
        if isinstance(exc, HTTPException):
            return exc
        raise exc

    return gated


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
    with request_db().session() as s:
        missions = user_missions(s, user.id)
    mission = getattr(g, "mission", None)
    menu = _menu_items() if mission is not None else []
    return {"user": user, "missions": missions, "mission": mission, "menu": menu, "ctx": getattr(g, "ctx", None)}


def _menu_items() -> list[tuple[str | None, Any]]:
    items = runtime().host.call_mission("mimosa_menu_items", g.enabled, ctx=g.ctx)
    return sorted(items, key=lambda pair: (pair[1].order, pair[1].id))
