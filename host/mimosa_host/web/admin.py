"""The mission administrator's plugin page: installed plugins, enable/disable, settings forms."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import flask
import marshmallow
import sqlalchemy as sa
from flask import Blueprint, abort, flash, g, redirect, request, url_for
from marshmallow import fields, validate

from .. import enablement, i18n
from ..accounts import mission_ref
from ..db import transaction
from ..logs import exception_summary
from ..models import PluginEnablement
from ..roles import MANAGE_PLUGINS
from . import plugin_catalogs, request_db, runtime

log = logging.getLogger(__name__)

bp = Blueprint("admin", __name__)


@bp.before_request
def _require_admin() -> None:
    if not g.ctx.can(MANAGE_PLUGINS):
        abort(404)


@dataclass(frozen=True)
class FormField:
    """One input of a settings form, derived from a marshmallow field."""

    name: str
    label: str
    input_type: str
    required: bool
    description: str
    choices: tuple[str, ...] = ()
    secret: bool = False
    step: str = ""
    """A number input's step: ``any`` for decimals (the browser refuses a fraction otherwise)."""


def form_fields(schema: marshmallow.Schema) -> list[FormField]:
    """The inputs of a settings form; see docs/plugin-api.md for the field metadata it reads."""
    secrets = enablement.secret_fields(schema)
    result = []
    for name, f in schema.fields.items():
        if f.dump_only:
            continue
        choices: tuple[str, ...] = ()
        for v in f.validators:
            if isinstance(v, validate.OneOf):
                choices = tuple(str(c) for c in v.choices)
        if name in secrets:
            input_type = "password"
        elif isinstance(f, fields.Boolean):
            input_type = "checkbox"
        elif isinstance(f, (fields.Integer, fields.Float, fields.Decimal)):
            input_type = "number"
        elif isinstance(f, fields.Url):
            input_type = "url"
        elif isinstance(f, fields.Email):
            input_type = "email"
        elif f.metadata.get("multiline"):
            input_type = "textarea"
        else:
            input_type = "select" if choices else "text"
        result.append(
            FormField(
                name=name,
                label=f.metadata.get("label", name),
                input_type=input_type,
                required=f.required,
                description=f.metadata.get("description", ""),
                choices=choices,
                secret=name in secrets,
                step="any" if isinstance(f, (fields.Float, fields.Decimal)) else "",
            )
        )
    return result


def shown_settings(schema: marshmallow.Schema, stored: dict[str, Any]) -> dict[str, Any]:
    """The stored settings, and each field they lack at its ``load_default`` as the schema dumps it: a setting
    added after the mission was enabled shows what the plugin applies, and saving the page unchanged keeps it."""
    defaults = {
        name: f.serialize(name, {name: f.load_default() if callable(f.load_default) else f.load_default})
        for name, f in schema.fields.items()
        if not f.dump_only and f.load_default is not marshmallow.missing
    }
    return {**defaults, **stored}


def submitted_settings(form_spec: list[FormField], form: Any) -> dict[str, Any]:
    """Form values as the schema expects them: unchecked boxes are False, blank inputs absent."""
    data: dict[str, Any] = {}
    for f in form_spec:
        if f.input_type == "checkbox":
            data[f.name] = f.name in form
        elif form.get(f.name, "").strip():
            data[f.name] = form.get(f.name).strip()
    return data


def _states() -> dict[str, PluginEnablement]:
    with request_db().session() as s:
        rows = s.scalars(sa.select(PluginEnablement).where(PluginEnablement.mission_code == g.mission.code))
        return {row.plugin_name: row for row in rows}


@bp.route("/plugins")
def plugins():
    return flask.render_template(
        "admin_plugins.html",
        installed=sorted(runtime().host.installed.values(), key=lambda p: p.name),
        states=_states(),
    )


@bp.route("/plugins/<name>", methods=["GET", "POST"])
def plugin(name: str):
    rt = runtime()
    installed = rt.host.installed.get(name)
    if installed is None:
        abort(404)
    schema = rt.host.call_one(name, "mimosa_mission_settings_schema") if installed.compatible else None
    spec = form_fields(schema) if schema is not None else []
    state = _states().get(name)
    stored, undecryptable = enablement.stored_settings(state)
    values = shown_settings(schema, stored) if schema is not None else {}
    refusal, findings = None, None
    if request.method == "POST" and request.form.get("action") == "check":
        values = submitted_settings(spec, request.form)
        try:
            findings = check_settings(name, values, stored)
        except enablement.EnablementRefused as exc:
            refusal = exc
    elif request.method == "POST":
        values = submitted_settings(spec, request.form)
        try:
            with transaction(request_db().session) as s:
                enablement.enable(s, rt.host, g.mission.code, name, values, g.ctx)
        except enablement.EnablementRefused as exc:
            refusal = exc
        else:
            flash(i18n.gettext("The plugin %(name)s is enabled in this mission.", name=name), "success")
            return redirect(url_for("admin.plugin", name=name))
    catalogs = plugin_catalogs(name) if installed.compatible else []
    status = 422 if refusal else 200
    return flask.render_template(
        "admin_plugin.html",
        installed=installed,
        state=state,
        spec=spec,
        values={k: v for k, v in values.items() if k not in {f.name for f in spec if f.secret}},
        stored_secrets={f.name for f in spec if f.secret and f.name in stored},
        undecryptable=undecryptable,
        refusal=refusal,
        refusal_message=refusal_text(name, refusal) if refusal else None,
        findings=findings,
        can_check=installed.compatible and offers_check(name),
        secret_typed=findings is not None and any(f.secret and request.form.get(f.name) for f in spec),
        ptext=lambda message: i18n.translate_for(catalogs, message),
    ), status


def check_settings(name: str, submitted: dict[str, Any], stored: dict[str, Any]) -> list[FindingText]:
    """The plugin's findings on the form's values (validated, a blank secret standing for the stored one), unsaved.

    A check that fails is the plugin's fault: the page says so, and the log has its type and frames.
    """
    rt = runtime()
    clean = enablement.validate_settings(rt.host, name, submitted, stored)
    catalogs = plugin_catalogs(name)
    try:
        findings = rt.host.call_one(
            name, "mimosa_mission_settings_check", mission=mission_ref(g.mission), settings=clean, ctx=g.ctx
        )
        texts: list[FindingText] = []
        for finding in findings or ():
            text = i18n.translate_for(catalogs, finding.message)
            texts.append(FindingText(text % finding.params if finding.params else text, finding.ok, finding.setting))
    except Exception as exc:  # noqa: BLE001 - a plugin's broken check must not break the settings page
        log.error("the settings check of plugin %s failed: %s", name, exception_summary(exc))
        return [FindingText(i18n.gettext("The plugin's check failed; the host's log says where."), False, None)]
    return texts


def offers_check(name: str) -> bool:
    """Whether the plugin implements ``mimosa_mission_settings_check`` (the page then shows the button)."""
    hook = runtime().host.pm.hook.mimosa_mission_settings_check
    return any(impl.plugin_name == name for impl in hook.get_hookimpls())


@dataclass(frozen=True)
class FindingText:
    """A plugin's :class:`~mimosa_host.plugin_api.SettingsFinding` in the viewer's language."""

    text: str
    ok: bool
    setting: str | None


def refusal_text(plugin_name: str, refusal: enablement.EnablementRefused) -> str:
    """A refusal in the viewer's language: a plugin's own message through its catalog, the host's through the host's."""
    catalogs = plugin_catalogs(plugin_name) if refusal.plugin_message else []
    text = i18n.translate_for(catalogs, refusal.message)
    return text % refusal.params if refusal.params else text


@bp.route("/plugins/<name>/disable", methods=["POST"])
def disable(name: str):
    rt = runtime()
    try:
        with transaction(request_db().session) as s:
            enablement.disable(s, rt.host, g.mission.code, name, g.ctx)
    except enablement.EnablementRefused as exc:
        flash(refusal_text(name, exc), "error")
    else:
        flash(i18n.gettext("The plugin %(name)s is disabled in this mission; its data is kept.", name=name), "success")
    return redirect(url_for("admin.plugin", name=name))
