"""Monitoring: the case's Monitoring tab (the schedule, the visits, the scores over time as a chart
and a table), the supervisor's alerts, and the integrators' scoring model page beside the mappings.

The chart is an SVG rendered on the server (``scoring/chart.py``): no script, readable without
JavaScript; the table beside it holds the same scores for everyone.
"""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, request, url_for
from sqlalchemy.orm import Session

from ctm_plugin import i18n
from ctm_plugin.domain.case import Case
from ctm_plugin.domain.mission_time import mission_today
from ctm_plugin.domain.monitoring import ANCHORS, OUTCOMES, VISIT_STATES, months_after
from ctm_plugin.schemas.mission_settings import risk_alert_threshold, score_fall
from ctm_plugin.schemas.monitoring import ANSWER, MonitoringStartSchema, VisitSchema
from ctm_plugin.scoring.chart import Series, scores_chart
from ctm_plugin.scoring.model import default_text, in_language
from ctm_plugin.security.permissions import CASE_EDIT, CASE_SUPERVISE, CASE_VIEW, MAPPING_MANAGE
from ctm_plugin.services import monitoring as service
from ctm_plugin.services.base import Invalid
from ctm_plugin.web import RECORD, dates, page, render
from ctm_plugin.web.forms import FormState
from ctm_plugin.web.pages import CaseTab, register_tab, show, submit
from mimosa_host.plugin_api import Page, current_context


def chart_of(seen: service.Monitoring) -> str | None:
    """The scores over time as an inline SVG, or ``None`` before the first survey."""
    if not seen.surveys:
        return None
    days = [dates.day(row.on) for row in seen.surveys]
    series = [Series(label, [row.scores.get(key) for row in seen.surveys]) for key, label in seen.dimensions]
    series.append(Series(i18n._("Overall"), [row.overall for row in seen.surveys]))
    title = i18n._("Sustainability scores over time")
    description = i18n._(
        "Scores from 0 to 1 of %(count)s surveys, from %(first)s to %(last)s, per dimension and overall."
        " The table below gives every score.",
        count=len(seen.surveys),
        first=days[0],
        last=days[-1],
    )
    return scores_chart(title, description, days, series)


def _load(session: Session, case: Case) -> dict[str, Any]:
    ctx = current_context()
    seen = service.monitoring_of_case(ctx, case.id, session)
    labels = dict(seen.dimensions)
    return {
        "seen": seen,
        "chart": chart_of(seen),
        "anchors": ANCHORS,
        "outcomes": [(code, i18n._(label)) for code, label in OUTCOMES.items()],
        "visit_states": VISIT_STATES,
        "scheduled_choices": [
            (str(month), i18n._("%(months)s months", months=month)) for month in sorted(set(seen.months))
        ],
        "dimension_label": lambda key: labels.get(key, key),
        "in_language": in_language,
        "answer_prefix": ANSWER,
        "mission_today": mission_today(ctx.settings),
        "months_after": months_after,
    }


MONITORING = register_tab(
    CaseTab(
        id="ctm.monitoring",
        label=i18n.N_("Monitoring"),
        endpoint="ctm.monitoring",
        template="monitoring.html",
        field_group="monitoring",
        load=_load,
    )
)


@page(RECORD + "/monitoring", CASE_VIEW)
def monitoring(record_ref: str):  # noqa: ANN201
    return show(MONITORING, record_ref)


@page(RECORD + "/monitoring/start", CASE_EDIT, methods=("POST",))
def set_monitoring_start(record_ref: str):  # noqa: ANN201
    return submit(
        MONITORING,
        record_ref,
        "start",
        MonitoringStartSchema,
        service.set_start,
        i18n.N_("The monitoring start date is saved."),
    )


@page(RECORD + "/monitoring/visit", CASE_EDIT, methods=("POST",))
def record_visit(record_ref: str):  # noqa: ANN201
    return submit(MONITORING, record_ref, "visit", VisitSchema, service.record_visit, i18n.N_("The visit is recorded."))


# -- the supervisor's alerts ------------------------------------------------------------------


@page("/monitoring/alerts", CASE_SUPERVISE)
def monitoring_alerts():  # noqa: ANN201
    ctx = current_context()
    found = service.alerts(ctx)
    model = service.model_in_force(ctx) if ctx.can(CASE_VIEW) else None
    labels = {d.id: in_language(d.label) for d in model.dimensions} if model else {}
    body = render(
        "monitoring_alerts.html",
        alerts=found,
        threshold=risk_alert_threshold(ctx.settings),
        fall=score_fall(ctx.settings),
        dimension_label=lambda key: labels.get(key, key),
    )
    return Page(title=i18n._("Monitoring alerts"), body=body)


# -- the integrators' scoring model -------------------------------------------------------------

HISTORY = 20


def _model_page(state: FormState | None = None, status: int = 200) -> Page:
    ctx = current_context()
    history = service.model_history(ctx)
    in_force = history[0] if history and history[0].document else None
    body = render(
        "scoring_model.html",
        form=state or FormState(),
        in_force=in_force,
        model=service.model_in_force(ctx),
        history=history[:HISTORY],
        default_text=default_text(),
        in_language=in_language,
    )
    return Page(title=i18n._("Scoring model"), body=body, status=status)


@page("/scoring-model", MAPPING_MANAGE)
def scoring_model():  # noqa: ANN201
    return _model_page()


@page("/scoring-model", MAPPING_MANAGE, methods=("POST",))
def save_scoring_model():  # noqa: ANN201
    document = request.form.get("document", "")
    try:
        saved = service.save_model(current_context(), document)
    except Invalid as refused:
        return _model_page(FormState("model", refused.errors, {"document": document}), status=422)
    if saved.model_key:
        flash(
            i18n._(
                "The scoring model %(key)s version %(version)s is in force.",
                key=saved.model_key,
                version=saved.model_version,
            ),
            "success",
        )
    else:
        flash(i18n._("The default scoring model is in force again."), "success")
    return redirect(url_for("ctm.scoring_model"), 303)
