"""Monitoring after the return: the schedule's start, the visits with their sustainability surveys,
the scores over time, the supervisor's alerts, and the mission's own scoring model.

The model in force is the mission's newest saved model, else the default one shipped with the
plugin. Each survey keeps the model's key and version, its answers and its scores as computed when
it was recorded, so a later model changes no earlier score.

For a demo or another slice, three surveys are three calls of :func:`record_visit` with
``answers_form({indicator id: option id})`` merged into the visit's form (see ``tests/plugin/test_monitoring.py``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ctm_plugin.domain.case import Case
from ctm_plugin.domain.handover import ReceptionTask
from ctm_plugin.domain.mission_time import in_mission_time, mission_today
from ctm_plugin.domain.monitoring import (
    MISSED,
    REACHED,
    RECEPTION,
    RETURN,
    START,
    MonitoringStart,
    MonitoringVisit,
    ScheduledVisit,
    ScoringModelRevision,
    falls,
    schedule,
)
from ctm_plugin.domain.returns import ReturnBooking
from ctm_plugin.i18n import N_, _
from ctm_plugin.mappings.problems import MappingError
from ctm_plugin.schemas.mission_settings import monitoring_months, risk_alert_threshold, score_fall
from ctm_plugin.schemas.monitoring import ANSWER, MonitoringStartSchema, VisitSchema
from ctm_plugin.scoring.model import (
    ScoringModel,
    check_answers,
    compute_scores,
    default_model,
    in_language,
    parse_model,
)
from ctm_plugin.security import audit
from ctm_plugin.security.audit import actor
from ctm_plugin.security.permissions import CASE_EDIT, CASE_SUPERVISE, CASE_VIEW, MAPPING_MANAGE
from mimosa_host.plugin_api import RequestContext

from .base import Invalid, get_case, load, require, touch, unit_of_work

MODEL_FILE = "scoring_model"
"""The name problems in a mission's saved model give as their file."""
FIELD = "document"
BEFORE_START = N_("The visit cannot be before the day the monitoring schedule starts from.")
NOT_SCHEDULED = N_("Choose a scheduled visit from the list.")
MISSED_NO_SURVEY = N_("A missed visit has no survey: clear the answers, or record the visit as reached.")
SAME_VERSION = N_(
    "Version %(version)s of the model %(key)s is already in use with other content:"
    " give the changed model a new version."
)
RACED = N_("Someone else saved a scoring model at the same time. Reload the page and try again.")
HAS_ARRIVAL = N_("The schedule starts from the person's arrival: no start date is needed.")


# -- the scoring model ------------------------------------------------------------------------


def _newest(session: Session) -> ScoringModelRevision | None:
    return session.scalar(sa.select(ScoringModelRevision).order_by(ScoringModelRevision.revision.desc()).limit(1))


def _in_force(session: Session) -> ScoringModel:
    newest = _newest(session)
    if newest is None or not newest.document:
        return default_model()
    return parse_model(newest.document, MODEL_FILE)


def model_in_force(ctx: RequestContext) -> ScoringModel:
    """The model the mission's surveys use now: its own newest, else the default."""
    if not (ctx.can(CASE_VIEW) or ctx.can(MAPPING_MANAGE)):
        require(ctx, CASE_VIEW)
    with unit_of_work(ctx) as session:
        return _in_force(session)


def model_history(ctx: RequestContext) -> list[ScoringModelRevision]:
    """The mission's saved models, newest (the one in force) first, detached for a page."""
    require(ctx, MAPPING_MANAGE)
    with unit_of_work(ctx) as session:
        rows = list(session.scalars(sa.select(ScoringModelRevision).order_by(ScoringModelRevision.revision.desc())))
        session.expunge_all()
        return rows


def save_model(ctx: RequestContext, document: str) -> ScoringModelRevision:
    """Put the mission's own scoring model in force, once checked; an empty document goes back to the default.

    A bad model raises :class:`Invalid` with each problem (file, key, line) and the one in force stays.
    A key and version already used with other content (the default's or an earlier save) is refused:
    a survey names the model it used by them.
    """
    require(ctx, MAPPING_MANAGE)
    document = document.replace("\r\n", "\n").strip()
    model = None
    if document:
        try:
            model = parse_model(document, MODEL_FILE)
        except MappingError as error:
            raise Invalid({FIELD: [str(problem) for problem in error.problems]}) from None
    try:
        with unit_of_work(ctx) as session:
            if model is not None:
                _same_version_same_content(session, model, document)
            newest = _newest(session)
            row = ScoringModelRevision(
                mission_code=ctx.mission.code,
                revision=(newest.revision if newest is not None else 0) + 1,
                model_key=model.key if model else None,
                model_version=model.version if model else None,
                document=document,
                saved_by=actor(ctx),
            )
            session.add(row)
            audit.record(session, ctx, "scoring_model.save", None)
            session.flush()
            session.expunge(row)
    except sa.exc.IntegrityError:
        raise Invalid({FIELD: [RACED]}) from None
    return row


def _same_version_same_content(session: Session, model: ScoringModel, document: str) -> None:
    default = default_model()
    if (model.key, model.version) == (default.key, default.version) and model != default:
        raise Invalid({FIELD: [_(SAME_VERSION, version=model.version, key=model.key)]})
    earlier = session.scalars(
        sa.select(ScoringModelRevision.document).where(
            ScoringModelRevision.model_key == model.key, ScoringModelRevision.model_version == model.version
        )
    )
    if any(text != document for text in earlier):
        raise Invalid({FIELD: [_(SAME_VERSION, version=model.version, key=model.key)]})


# -- the schedule -----------------------------------------------------------------------------


def anchor_of(ctx: RequestContext, session: Session, case: Case) -> tuple[date | None, str | None]:
    """What the schedule starts from, and which: the reception's arrival date, the return's
    arrival, the start date set on the tab; ``(None, None)`` while there is none."""
    return anchors(ctx, session, [case.id]).get(case.id, (None, None))


def anchors(
    ctx: RequestContext, session: Session, case_ids: list[int] | sa.Select[Any] | None = None
) -> dict[int, tuple[date, str]]:
    """The schedule's anchor of each case that has one (of ``case_ids``, a list or a query of them, or of the
    mission's every case), read for all of them at once: a later source overrides an earlier, the
    reception's arrival last."""
    found: dict[int, tuple[date, str]] = {}

    def of(column: Any) -> sa.ColumnElement[bool]:
        return column.in_(case_ids) if case_ids is not None else sa.true()

    for case_id, start_on in session.execute(
        sa.select(MonitoringStart.case_id, MonitoringStart.start_on).where(of(MonitoringStart.case_id))
    ):
        found[case_id] = (start_on, START)
    arrivals: Any = session.execute(  # a status change's moment, never null here
        sa.select(ReturnBooking.case_id, ReturnBooking.status_changed_at)
        .where(
            of(ReturnBooking.case_id), ReturnBooking.status == "ARRIVED", ReturnBooking.status_changed_at.is_not(None)
        )
        .order_by(ReturnBooking.id)
    )
    for case_id, moment in arrivals:
        found[case_id] = (in_mission_time(moment, ctx.settings).date(), RETURN)
    receptions: Any = session.execute(  # an arrival date, never null here
        sa.select(ReceptionTask.case_id, ReceptionTask.arrived_on)
        .where(of(ReceptionTask.case_id), ReceptionTask.arrived_on.is_not(None))
        .order_by(ReceptionTask.id)
    )
    for case_id, arrived_on in receptions:
        found[case_id] = (arrived_on, RECEPTION)
    return found


def set_start(ctx: RequestContext, case_id: int, data: dict[str, Any]) -> None:
    """The monitoring start date, for a case whose schedule has no arrival to start from."""
    require(ctx, CASE_EDIT)
    schema = MonitoringStartSchema(today=mission_today(ctx.settings))
    with unit_of_work(ctx) as session:
        case = get_case(session, case_id)
        values = load(schema, data)
        touch(case, ctx, values["version"])
        _anchor, kind = anchor_of(ctx, session, case)
        if kind in (RECEPTION, RETURN):
            raise Invalid({"start_on": [HAS_ARRIVAL]})
        start = session.scalar(sa.select(MonitoringStart).where(MonitoringStart.case_id == case.id))
        if start is None:
            start = MonitoringStart(mission_code=ctx.mission.code, case_id=case.id)
            session.add(start)
        start.start_on, start.set_by = values["start_on"], actor(ctx)
        audit.record(session, ctx, "monitoring.start", case.id, ["monitoring"])


# -- visits -----------------------------------------------------------------------------------


def answers_form(answers: Mapping[str, str]) -> dict[str, str]:
    """A survey's answers (indicator id → option id) as the visit form posts them."""
    return {ANSWER + indicator_id: option_id for indicator_id, option_id in answers.items()}


def _answers(data: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The visit's own fields, and the survey's answers (indicator id → what was posted) if any was given."""
    own = {k: v for k, v in data.items() if not (isinstance(k, str) and k.startswith(ANSWER))}
    answers = {k[len(ANSWER) :]: v for k, v in data.items() if isinstance(k, str) and k.startswith(ANSWER)}
    given = {k: v for k, v in answers.items() if not (isinstance(v, str) and not v.strip())}
    return own, given


def record_visit(ctx: RequestContext, case_id: int, data: dict[str, Any]) -> int:
    """A monitoring visit (reached or missed), with the survey answered at it if any answer is given.

    Every problem of the form and of the survey is reported at once, each under its field (an
    answer under ``answer_<indicator id>``, naming the question); nothing is saved then.
    """
    require(ctx, CASE_EDIT)
    own, answers = _answers(data)
    months = monitoring_months(ctx.settings)
    schema = VisitSchema(today=mission_today(ctx.settings))
    with unit_of_work(ctx) as session:
        case = get_case(session, case_id)
        errors: dict[str, list[str]] = {}
        try:
            values = load(schema, own)
        except Invalid as refused:
            errors, values = dict(refused.errors), {}
        anchor, _kind = anchor_of(ctx, session, case)
        if values.get("visited_on") and anchor and values["visited_on"] < anchor:
            errors.setdefault("visited_on", []).append(BEFORE_START)
        if values.get("schedule_month") is not None and values["schedule_month"] not in months:
            errors.setdefault("schedule_month", []).append(NOT_SCHEDULED)
        model = _in_force(session)
        if answers:
            if values.get("outcome") == MISSED:
                errors.setdefault("outcome", []).append(MISSED_NO_SURVEY)
            for indicator_id, problems in check_answers(model, answers).items():
                errors[ANSWER + indicator_id] = [_(message, **params) for message, params in problems]
            if any(model.indicator(key) is None for key in answers):
                errors.setdefault("_schema", []).append(N_("The form is not valid."))
        if errors:
            raise Invalid(errors)
        touch(case, ctx, values.pop("version"))
        visit = MonitoringVisit(mission_code=ctx.mission.code, case_id=case.id, recorded_by=actor(ctx), **values)
        if answers:
            scores = compute_scores(model, answers)
            visit.model_key, visit.model_version = model.key, model.version
            visit.answers = {indicator.id: answers[indicator.id] for indicator in model.indicators}
            visit.scores = {dimension: str(score) for dimension, score in scores.dimensions.items()}
            visit.overall = scores.overall
        session.add(visit)
        session.flush()
        audit.record(session, ctx, "monitoring.visit", case.id, ["monitoring"])
        return visit.id


# -- what the tab shows -----------------------------------------------------------------------


@dataclass(frozen=True)
class SurveyRow:
    """One survey's scores, as the table and the chart show them."""

    visit_id: int
    on: date
    model_key: str
    model_version: int
    scores: dict[str, Decimal]
    overall: Decimal
    fell: list[str]
    """The dimensions that fell by at least the mission's threshold since the survey before."""


@dataclass
class Monitoring:
    anchor: date | None
    anchor_kind: str | None
    schedule: list[ScheduledVisit]
    visits: list[MonitoringVisit]
    """Newest first, detached."""
    surveys: list[SurveyRow]
    """Oldest first."""
    dimensions: list[tuple[str, str]]
    """Every dimension the surveys scored (id, label in the reader's language), in the model's order."""
    model: ScoringModel
    threshold: Decimal
    months: list[int] = field(default_factory=list)

    @property
    def falls(self) -> list[SurveyRow]:
        return [row for row in self.surveys if row.fell]


def survey_rows(visits: list[MonitoringVisit], threshold: Decimal) -> list[SurveyRow]:
    """The surveys among ``visits``, oldest first, each with the dimensions that fell since the one before."""
    rows: list[SurveyRow] = []
    previous: dict[str, str] | None = None
    for visit in sorted((v for v in visits if v.scores), key=lambda v: (v.visited_on, v.id)):
        assert visit.scores is not None and visit.overall is not None
        fell = falls(previous, visit.scores, threshold) if previous is not None else []
        rows.append(
            SurveyRow(
                visit.id,
                visit.visited_on,
                visit.model_key or "",
                visit.model_version or 0,
                {k: Decimal(v) for k, v in visit.scores.items()},
                Decimal(visit.overall),
                fell,
            )
        )
        previous = visit.scores
    return rows


def _dimension_labels(model: ScoringModel, rows: list[SurveyRow]) -> list[tuple[str, str]]:
    known = {d.id: in_language(d.label) for d in (*default_model().dimensions, *model.dimensions)}
    order = [d.id for d in model.dimensions] + [d.id for d in default_model().dimensions]
    used = {key for row in rows for key in row.scores} or {d.id for d in model.dimensions}
    ordered = [key for key in dict.fromkeys(order) if key in used] + sorted(used - set(order))
    return [(key, known.get(key, key)) for key in ordered]


def monitoring_of_case(ctx: RequestContext, case_id: int, session: Session | None = None) -> Monitoring:
    """The case's schedule, visits and scores over time (detached); within ``session`` when given (a tab's)."""
    require(ctx, CASE_VIEW)
    if session is None:
        with unit_of_work(ctx) as own:
            return monitoring_of_case(ctx, case_id, own)
    case = get_case(session, case_id)
    anchor, kind = anchor_of(ctx, session, case)
    visits = list(
        session.scalars(
            sa.select(MonitoringVisit)
            .where(MonitoringVisit.case_id == case.id)
            .order_by(MonitoringVisit.visited_on.desc(), MonitoringVisit.id.desc())
        )
    )
    for visit in visits:
        session.expunge(visit)
    months = monitoring_months(ctx.settings)
    threshold = score_fall(ctx.settings)
    rows = survey_rows(visits, threshold)
    model = _in_force(session)
    return Monitoring(
        anchor=anchor,
        anchor_kind=kind,
        schedule=schedule(anchor, months, visits, mission_today(ctx.settings)),
        visits=visits,
        surveys=rows,
        dimensions=_dimension_labels(model, rows),
        model=model,
        threshold=threshold,
        months=months,
    )


# -- the supervisor's alerts ------------------------------------------------------------------


@dataclass(frozen=True)
class Alert:
    """A case to look at, with what the monitoring found.

    It carries the case's number and record id (``beneficiary_id``, for the link to the case's tab),
    never the person's name or birth date.
    """

    case_number: str
    beneficiary_id: str
    last_visit_on: date
    risk_count: int
    risks: list[str]
    fell: list[str]
    """Dimensions that fell between the case's last two surveys."""


def alerts(ctx: RequestContext) -> list[Alert]:
    """The mission's cases whose last visit that reached the person found at least the alert threshold of
    risk indicators (a missed visit found nothing, and clears nothing), or whose last survey fell by at least
    the mission's threshold in a dimension; newest visit first."""
    require(ctx, CASE_SUPERVISE)
    threshold, fall = risk_alert_threshold(ctx.settings), score_fall(ctx.settings)
    with unit_of_work(ctx) as session:
        rows = session.execute(
            sa.select(MonitoringVisit, Case.case_number, Case.beneficiary_id)
            .join(Case, Case.id == MonitoringVisit.case_id)
            .order_by(MonitoringVisit.case_id, MonitoringVisit.visited_on, MonitoringVisit.id)
        ).all()
        by_case: dict[int, list[Any]] = {}
        for visit, number, beneficiary in rows:
            by_case.setdefault(visit.case_id, []).append((visit, number, beneficiary))
        found = []
        for visits in by_case.values():
            last, number, beneficiary = visits[-1]
            surveys = survey_rows([v for v, _n, _b in visits], fall)
            fell = surveys[-1].fell if surveys else []
            reached = [v for v, _n, _b in visits if v.outcome == REACHED]
            risks = list(dict.fromkeys(reached[-1].risks or [])) if reached else []  # each risk counts once
            if len(risks) >= threshold or fell:
                found.append(Alert(number, beneficiary, last.visited_on, len(risks), risks, fell))
        audit.record(session, ctx, "monitoring.alerts", None, ["monitoring"])
    return sorted(found, key=lambda a: (a.last_visit_on, a.case_number), reverse=True)
