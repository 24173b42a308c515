"""Beneficiary and movement pages; record pages carry a tab bar built from plugins' tabs."""

from __future__ import annotations

from typing import cast

import flask
import sqlalchemy as sa
from flask import Blueprint, abort, g, request, url_for
from sqlalchemy.orm import Session

from .. import i18n
from ..models import Beneficiary, Document, Movement
from ..plugin_api import RECORD_TYPES, Page, Tab
from ..roles import VIEW_RECORDS
from . import plugin_html, runtime

bp = Blueprint("records", __name__)

PAGE_SIZE = 50
DETAILS_TAB = "details"
RECORD_MODELS: dict[str, type[Beneficiary] | type[Movement]] = dict(
    zip(RECORD_TYPES, (Beneficiary, Movement), strict=True)
)
"""The model of each record type plugins may name (``plugin_api.RECORD_TYPES``)."""
DETAILS_ENDPOINTS = dict(zip(RECORD_TYPES, ("records.beneficiary", "records.movement"), strict=True))


@bp.before_request
def _require_view() -> None:
    if not g.ctx.can(VIEW_RECORDS):
        abort(404)


def _find(
    session: Session, record_type: str | None, ref: str | None, mission_code: str
) -> Beneficiary | Movement | None:
    model = RECORD_MODELS.get(record_type or "")
    if model is None or not ref:
        return None
    record = cast("Beneficiary | Movement | None", session.get(model, ref))  # mypy joins the two models to Base
    return record if record is not None and record.mission_code == mission_code else None


def record_in_mission(session: Session, record_type: str | None, ref: str | None, mission_code: str) -> bool:
    """Whether ``record_type`` is a host record type and ``ref`` one of its records in the mission."""
    return _find(session, record_type, ref, mission_code) is not None


def _load(record_type: str, ref: str | None):  # noqa: ANN202 - one of two models
    if not g.ctx.can(VIEW_RECORDS):
        abort(404)
    s = runtime().factory()
    record = _find(s, record_type, ref, g.mission.code)
    if record is None:
        s.close()
        abort(404)
    return s, record


def record_tabs(record_type: str, ref: str) -> list[tuple[str | None, Tab]]:
    """The host's details tab, then each enabled plugin's tabs in their order."""
    endpoint = DETAILS_ENDPOINTS[record_type]
    tabs: list[tuple[str | None, Tab]] = [
        (None, Tab(DETAILS_TAB, i18n.N_("Details"), url_for(endpoint, ref=ref), order=0))
    ]
    for plugin_name, result in runtime().host.call_each(
        "mimosa_record_tabs", names=g.enabled, record_type=record_type, record_ref=ref, ctx=g.ctx
    ):
        tabs.extend((plugin_name, tab) for tab in result or ())
    return sorted(tabs, key=lambda pair: (pair[1].order, pair[1].id))


def render_record_page(record_type: str, ref: str | None, page: Page, plugin: str | None) -> str:
    s, record = _load(record_type, ref)
    with s:
        return flask.render_template(
            "record.html",
            record_type=record_type,
            record=record,
            tabs=record_tabs(record_type, record_id(record)),
            active_tab=page.active_tab,
            page=page,
            body=plugin_html(page),
            plugin=plugin,
        )


def record_id(record: Beneficiary | Movement) -> str:
    return record.beneficiary_id if isinstance(record, Beneficiary) else record.movement_id


@bp.route("/beneficiaries")
def beneficiaries():
    q = request.args.get("q", "").strip()
    page = max(request.args.get("page", 1, type=int), 1)
    stmt = sa.select(Beneficiary).where(Beneficiary.mission_code == g.mission.code)
    if q:
        like = f"%{q.lower()}%"
        stmt = stmt.where(
            sa.or_(
                sa.func.lower(Beneficiary.family_name).like(like),
                sa.func.lower(Beneficiary.given_name).like(like),
                sa.func.lower(Beneficiary.beneficiary_id).like(like),
                Beneficiary.beneficiary_id.in_(sa.select(Document.beneficiary_id).where(Document.number == q)),
            )
        )
    with runtime().factory() as s:
        total = s.scalar(sa.select(sa.func.count()).select_from(stmt.subquery())) or 0
        rows = s.scalars(
            stmt.order_by(Beneficiary.family_name, Beneficiary.given_name, Beneficiary.beneficiary_id)
            .limit(PAGE_SIZE)
            .offset((page - 1) * PAGE_SIZE)
        ).all()
    return flask.render_template(
        "beneficiaries.html", rows=rows, q=q, page=page, total=total, pages=max((total - 1) // PAGE_SIZE + 1, 1)
    )


@bp.route("/beneficiaries/<ref>")
def beneficiary(ref: str):
    return render_record_page("beneficiary", ref, Page(title="", body="", active_tab=DETAILS_TAB), None)


@bp.route("/movements")
def movements():
    with runtime().factory() as s:
        rows = s.scalars(
            sa.select(Movement)
            .where(Movement.mission_code == g.mission.code)
            .order_by(Movement.earliest_departure.desc(), Movement.movement_id)
            .limit(200)
        ).all()
    return flask.render_template("movements.html", rows=rows)


@bp.route("/movements/<ref>")
def movement(ref: str):
    return render_record_page("movement", ref, Page(title="", body="", active_tab=DETAILS_TAB), None)
