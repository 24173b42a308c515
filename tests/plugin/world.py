"""The demo seen through its users (:class:`World`), for the plugin's service tests."""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa

from ctm_plugin.domain.assistance import Consent
from ctm_plugin.domain.audit import AuditEvent
from ctm_plugin.domain.case import Case
from ctm_plugin.domain.models import Base as CtmBase
from ctm_plugin.schemas.mission_settings import MissionSettingsSchema
from ctm_plugin.services import cases, outbox
from mimosa_host import enablement
from mimosa_host.context import build_context
from mimosa_host.db import SharedConnection
from mimosa_host.models import Mission, PluginEnablement, User
from mimosa_host.plugin_api import RequestContext

THA_PERSON = "BEN-1000001"
THA_OTHER_PERSON = "BEN-1000002"
KHM_PERSON = "BEN-2000001"
OPENED = "2026-02-03"  # a past date: the case number takes its year


def set_ctm_settings(rt, mission: str = "THA", **changes: Any) -> None:  # noqa: ANN001 - a Runtime
    """Change the CTM's settings document of ``mission`` in the host, where they live (``None`` removes one).

    Written as stored, past the schema, so a test can also make a document an older release left.
    """
    with rt.factory() as s, s.begin():
        state = s.scalars(sa.select(PluginEnablement).filter_by(mission_code=mission, plugin_name="ctm")).one()
        settings = {**enablement.stored_settings(state)[0], **changes}
        secret = enablement.secret_fields(MissionSettingsSchema())
        enablement.store_settings(state, {name: value for name, value in settings.items() if value is not None}, secret)


class World:
    """The demo runtime seen through its users, with read-outs that bypass the mission scope."""

    def __init__(self, rt) -> None:  # noqa: ANN001 - a Runtime
        self.rt = rt
        self._contexts: dict[tuple[str, str], RequestContext] = {}

    def ctx(self, username: str, mission: str = "THA") -> RequestContext:
        """The context of ``username``'s request to a CTM page (it carries the CTM's settings then)."""
        if (username, mission) not in self._contexts:
            with self.rt.factory() as s:
                user = s.scalar(sa.select(User).where(User.username == username))
                ctx, _enabled = build_context(
                    s, self.rt.host, self.rt.factory, s.get(Mission, mission), user, "en", plugin="ctm"
                )
            self._contexts[username, mission] = ctx
        return self._contexts[username, mission]

    def request_ctx(self, username: str, mission: str = "THA") -> RequestContext:
        """A fresh context as a request to a CTM page gets it: its own shared connection (sessions opened
        while another holds a transaction join it), the user's other missions reached through it."""
        shared = SharedConnection(self.rt.engine)
        with shared.session() as s:
            user = s.scalar(sa.select(User).where(User.username == username))
            ctx, _enabled = build_context(
                s,
                self.rt.host,
                shared.plugin_session,
                s.get(Mission, mission),
                user,
                "en",
                plugin="ctm",
                host_sessions=shared.session,
            )
        return ctx

    def open(self, person: str = THA_PERSON, username: str = "caseworker", mission: str = "THA") -> int:
        return cases.open_case(self.ctx(username, mission), person, {"opened_on": OPENED})

    def close(self, case_id: int, username: str = "caseworker", mission: str = "THA") -> None:
        """Close the case (its goals met): from then on it takes no change but its reopening."""
        closing = {"status": "Closed", "close_reason": "GoalsMet", "closed_on": OPENED, "reason": "Plan completed."}
        cases.close_case(self.ctx(username, mission), case_id, {**closing, "version": str(self.version(case_id))})

    def version(self, case_id: int) -> int:
        with self.rt.engine.connect() as conn:
            return conn.scalar(sa.select(Case.version).where(Case.id == case_id))

    def one(self, model: type, **where: Any) -> Any:
        with self.rt.factory() as s:
            return s.scalars(sa.select(model).filter_by(**where)).one()

    def all(self, model: type, **where: Any) -> list:
        with self.rt.factory() as s:
            return list(s.scalars(sa.select(model).filter_by(**where).order_by(model.id)))

    def snapshot(self) -> dict[str, list[tuple]]:
        """Every row of every CTM table, to show that a refused use case saved nothing."""
        with self.rt.engine.connect() as conn:
            return {
                table.name: [tuple(row) for row in conn.execute(sa.select(table).order_by(*table.primary_key))]
                for table in CtmBase.metadata.sorted_tables
            }

    def audit_rows(self) -> list[dict[str, Any]]:
        with self.rt.engine.connect() as conn:
            table = AuditEvent.__table__
            return [dict(row._mapping) for row in conn.execute(sa.select(table).order_by(table.c.id))]

    # -- exchanges with the host ---------------------------------------------------------------

    def job_ctx(self, mission: str = "THA") -> RequestContext:
        """The context the host's job runner gives the CTM's jobs in ``mission``."""
        with self.rt.factory() as s:
            return build_context(s, self.rt.host, self.rt.factory, s.get(Mission, mission), None, "en", plugin="ctm")[0]

    def relay(self, **kwargs: Any) -> outbox.RelayReport:
        return outbox.relay(self.job_ctx(), rng=random.Random(1), **kwargs)

    def consent(self, case_id: int, purpose: str = "Return") -> None:
        """The person's consent for ``purpose``, as the Consent tab records it."""
        with self.rt.factory() as s, s.begin():
            s.add(
                Consent(
                    mission_code="THA",
                    case_id=case_id,
                    purpose=purpose,
                    items=["ConsentedToInterview"],
                    given_on=date(2026, 2, 3),
                    method="Written",
                    recorded_by="caseworker",
                )
            )

    def prepare(self, case_id: int, **changes: object) -> None:
        """A caseworker completes the mission's default checklist (``changes`` on top), with the
        person's consent to return recorded first."""
        from ctm_plugin.services import preparation

        self.consent(case_id)
        preparation.save_checklist(self.ctx("caseworker"), case_id, {**self.checklist_form(case_id), **changes})

    def checklist_form(self, case_id: int) -> dict[str, object]:
        return {
            "version": self.version(case_id),
            "counselled_on": "2026-02-03",
            "document_kind": "PASSPORT",
            "document_number": "SYN1234567",
            "document_expiry": (date.today() + timedelta(days=400)).isoformat(),
            "fit_to_travel": True,
            "risk_level": "LOW",
            "risk_reason": "Family waiting, no threat known.",
        }

    def booking_form(self, case_id: int) -> dict[str, object]:
        return {
            "version": self.version(case_id),
            "origin_country": "THA",
            "origin_location": "BKK",
            "destination_country": "KHM",
            "destination_location": "PNH",
            "earliest_departure": departure(),
            "escort": "OPERATIONAL",
            "fit_to_travel": "y",
            "project_code": "THA-CT-01",
        }


def departure() -> str:
    """The earliest departure the tests book: a month from today."""
    return (date.today() + timedelta(days=30)).isoformat()
