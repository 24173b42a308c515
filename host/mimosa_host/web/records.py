"""Beneficiary and movement pages; record pages carry a tab bar built from plugins' tabs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

import flask
import sqlalchemy as sa
from flask import Blueprint, abort, g, request, url_for
from sqlalchemy.orm import Session, selectinload

from .. import i18n
from ..inputs import CONTROL
from ..models import Beneficiary, Document, Movement
from ..plugin_api import RECORD_TYPES, Page, Tab
from ..roles import VIEW_RECORDS
from . import plugin_html, request_db, runtime

bp = Blueprint("records", __name__)

PAGE_SIZE = 50
MAX_QUERY = 120
"""A search matches names (at most 120 characters), IDs and document numbers: a longer one finds nothing."""
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


# What a record page shows of a record's relations, loaded with it: the page is rendered after
# its session has ended (see render_record_page).
_PAGE_LOADS = {
    "beneficiary": (selectinload(Beneficiary.documents),),
    "movement": (selectinload(Movement.beneficiaries), selectinload(Movement.legs)),
}


def _find(
    session: Session, record_type: str | None, ref: str | None, mission_code: str, options: Sequence[Any] = ()
) -> Beneficiary | Movement | None:
    model = RECORD_MODELS.get(record_type or "")
    if model is None or not ref:
        return None
    record = cast("Beneficiary | Movement | None", session.get(model, ref, options=options))  # mypy joins them to Base
    return record if record is not None and record.mission_code == mission_code else None


def admit_record(session: Session, record_type: str | None, ref: str | None, mission_code: str) -> bool:
    """Whether ``record_type`` is a host record type and ``ref`` one of its records in the mission. The record is
    kept for the request, with what its page shows: a plugin's record page is read once (:func:`_load`)."""
    record = _find(session, record_type, ref, mission_code, _PAGE_LOADS.get(record_type or "", ()))
    if record is not None:
        g.admitted_record = (record_type, ref, record)
    return record is not None


def _load(record_type: str, ref: str | None) -> Beneficiary | Movement:
    """The record with what its page shows, its session ended: plugins' hooks run next, on the
    request's connection, and commit their own work (the host holds no transaction meanwhile).
    The one this request's plugin URL named is read already (:func:`admit_record`)."""
    if not g.ctx.can(VIEW_RECORDS):
        abort(404)
    admitted = g.get("admitted_record")
    if admitted is not None and admitted[:2] == (record_type, ref):
        return cast("Beneficiary | Movement", admitted[2])
    with request_db().session() as s:
        record = _find(s, record_type, ref, g.mission.code, _PAGE_LOADS.get(record_type, ()))
    if record is None:
        abort(404)
    return record


def record_tabs(record_type: str, ref: str) -> list[tuple[str | None, Tab]]:
    """The host's details tab, then each enabled plugin's tabs in their order."""
    endpoint = DETAILS_ENDPOINTS[record_type]
    tabs: list[tuple[str | None, Tab]] = [
        (None, Tab(DETAILS_TAB, i18n.N_("Details"), url_for(endpoint, ref=ref), order=0))
    ]
    tabs.extend(
        runtime().host.call_mission("mimosa_record_tabs", g.enabled, record_type=record_type, record_ref=ref, ctx=g.ctx)
    )
    return sorted(tabs, key=lambda pair: (pair[1].order, pair[1].id))


def render_record_page(record_type: str, ref: str | None, page: Page, plugin: str | None) -> str:
    record = _load(record_type, ref)
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


def search_problem(q: str) -> str | None:
    """Why a search cannot be run as typed, if it cannot: too long, or holding control characters
    (PostgreSQL cannot even compare a text holding NUL)."""
    if len(q) > MAX_QUERY:
        return i18n.N_("Search: enter at most %(max)d characters.")
    if CONTROL.search(q):
        return i18n.N_("Search: remove the control characters.")
    return None


@bp.route("/beneficiaries")
def beneficiaries():
    q = request.args.get("q", "").strip()
    page = request.args.get("page", 1, type=int)
    problem = search_problem(q)
    stmt = sa.select(Beneficiary).where(Beneficiary.mission_code == g.mission.code)
    if problem:
        stmt = stmt.where(sa.false())
    elif q:
        like = f"%{q.lower()}%"
        stmt = stmt.where(
            sa.or_(
                sa.func.lower(Beneficiary.family_name).like(like),
                sa.func.lower(Beneficiary.given_name).like(like),
                sa.func.lower(Beneficiary.beneficiary_id).like(like),
                Beneficiary.beneficiary_id.in_(sa.select(Document.beneficiary_id).where(Document.number == q)),
            )
        )
    with request_db().session() as s:
        total = s.scalar(sa.select(sa.func.count()).select_from(stmt.subquery())) or 0
        pages = max((total - 1) // PAGE_SIZE + 1, 1)
        page = min(max(page, 1), pages)  # past the last page: the last page
        rows = s.scalars(
            stmt.order_by(Beneficiary.family_name, Beneficiary.given_name, Beneficiary.beneficiary_id)
            .limit(PAGE_SIZE)
            .offset((page - 1) * PAGE_SIZE)
        ).all()
    html = flask.render_template(
        "beneficiaries.html",
        rows=rows,
        q=q,
        page=page,
        total=total,
        pages=pages,
        problem=problem,
        max_query=MAX_QUERY,
    )
    return html, 400 if problem else 200


@bp.route("/beneficiaries/<ref>")
def beneficiary(ref: str):
    return render_record_page("beneficiary", ref, Page(title="", body="", active_tab=DETAILS_TAB), None)


@bp.route("/movements")
def movements():
    with request_db().session() as s:
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
