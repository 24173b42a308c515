"""Reintegration: the plan agreed with the person, its elements and budgets, the disbursements
requested against them, and the money ledger.

The plan lives where the person is: in the mission that holds the case (after a hand-over, the
mission of origin). The ledger is append-only: an approval, a payment or a reversal is written
once and never updated or deleted (the ORM refuses it at flush); a mistake is corrected by a
reversal entry that names the entry it reverses. Money is ``Decimal`` with its ISO 4217 currency,
and totals are kept per currency (:func:`money.totals`): two currencies are never added together.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Date, ForeignKey, Integer, String, UniqueConstraint, event
from sqlalchemy.orm import Mapped, Session, mapped_column

from ctm_plugin.i18n import N_

from . import money
from .models import Base, MissionScoped, UTCDateTime, in_the_case_mission, utcnow
from .sealed import Sealed, SealedJson, sealed_document_type, sealed_type

# A disbursement's states: requested, then approved or rejected, then paid. A reversed approval
# ends it ("reversed"); a reversed payment brings it back to approved.
REQUESTED, APPROVED, REJECTED, PAID, REVERSED = "requested", "approved", "rejected", "paid", "reversed"
DISBURSEMENT_STATES = {
    REQUESTED: N_("Waiting for approval"),
    APPROVED: N_("Approved"),
    REJECTED: N_("Rejected"),
    PAID: N_("Paid"),
    REVERSED: N_("Approval reversed"),
}
PAYEES = {"Person": N_("The person"), "Provider": N_("The element's provider")}

APPROVAL, PAYMENT, REVERSAL = "approval", "payment", "reversal"
ENTRY_KINDS = {APPROVAL: N_("Approval"), PAYMENT: N_("Payment"), REVERSAL: N_("Reversal")}


class AppendOnly(RuntimeError):
    """A ledger entry was changed or deleted: a programming error; a mistake takes a reversal entry."""


class ReintegrationPlan(MissionScoped, Base):
    """A case's plan: agreed with the person on a day, recorded by a user; its revision moves on
    with every change after the agreement (:class:`PlanRevision` keeps what changed)."""

    __tablename__ = "ctm_reintegration_plan"
    __table_args__ = (in_the_case_mission(),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(unique=True)
    agreed_on: Mapped[date | None] = mapped_column(Date)
    agreed_recorded_by: Mapped[str | None] = mapped_column(String(80))
    agreed_recorded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revision: Mapped[int] = mapped_column(Integer, default=0)
    """0 before the agreement; 1 at the agreement; one more with each change after it."""


class PlanElement(MissionScoped, Base):
    """One element of the plan: what, with whom, when, for how much, and where it stands."""

    __tablename__ = "ctm_plan_element"
    __table_args__ = (in_the_case_mission(),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(index=True)
    type: Mapped[str] = mapped_column(String(40))
    objective_sealed: Mapped[str] = mapped_column("objective", sealed_type())
    objective = Sealed()
    provider_kind: Mapped[str] = mapped_column(String(20))
    provider_name: Mapped[str] = mapped_column(String(120))
    """Copied from the mission's settings when chosen: the plan keeps it if the settings change."""
    start_on: Mapped[date] = mapped_column(Date)
    end_on: Mapped[date] = mapped_column(Date)
    budget: Mapped[Decimal] = mapped_column(money.AMOUNT)
    currency: Mapped[str] = mapped_column(money.CURRENCY)
    status: Mapped[str] = mapped_column(String(20))
    status_reason_sealed: Mapped[str | None] = mapped_column("status_reason", sealed_type())
    status_reason = Sealed()
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def provider(self) -> str:
        return provider_key(self.provider_kind, self.provider_name)


def provider_key(kind: str, name: str) -> str:
    """A provider as the settings list it and the form sends it: ``kind: name``."""
    return f"{kind}: {name}"


def unreadable_changes(notice: str) -> list[dict[str, Any]]:
    """What a revision whose changes cannot be opened shows: one change of nothing named, from and to the notice."""
    return [{"field": "", "before": notice, "after": notice}]


class PlanRevision(MissionScoped, Base):
    """A change to an agreed plan: its revision number, who, when, and each field's before and after."""

    __tablename__ = "ctm_plan_revision"
    __table_args__ = (
        in_the_case_mission(),
        UniqueConstraint("case_id", "revision"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(index=True)
    revision: Mapped[int] = mapped_column(Integer)
    what: Mapped[str] = mapped_column(String(20))
    """``agreed``, ``element.add`` or ``element.change``."""
    element_id: Mapped[int | None] = mapped_column(ForeignKey("ctm_plan_element.id", ondelete="CASCADE"))
    changes_sealed: Mapped[str] = mapped_column("changes", sealed_document_type())
    changes = SealedJson(unreadable=unreadable_changes)
    """``[{"field": ..., "before": ..., "after": ...}]``, values as text: an objective's or a reason's before and
    after are the person's, so the whole list is sealed."""
    by: Mapped[str] = mapped_column(String(80))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Disbursement(MissionScoped, Base):
    """A request to pay money against an element (or, from the global emergency fund, against none)."""

    __tablename__ = "ctm_disbursement"
    __table_args__ = (in_the_case_mission(),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(index=True)
    element_id: Mapped[int | None] = mapped_column(ForeignKey("ctm_plan_element.id"), index=True)
    emergency_request_id: Mapped[int | None] = mapped_column(Integer)
    """The emergency-fund request it comes from (no foreign key: the fund's table is HQ's)."""
    amount: Mapped[Decimal] = mapped_column(money.AMOUNT)
    currency: Mapped[str] = mapped_column(money.CURRENCY)
    project_code: Mapped[str] = mapped_column(String(40))
    payee: Mapped[str] = mapped_column(String(10))
    purpose_sealed: Mapped[str | None] = mapped_column("purpose", sealed_type())
    purpose = Sealed()
    state: Mapped[str] = mapped_column(String(10), default=REQUESTED)
    requested_by: Mapped[str] = mapped_column(String(80))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_by: Mapped[str | None] = mapped_column(String(80))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reason_sealed: Mapped[str | None] = mapped_column("reason", sealed_type())
    reason = Sealed()
    """Why it was rejected."""
    override_reason_sealed: Mapped[str | None] = mapped_column("override_reason", sealed_type())
    override_reason = Sealed()
    """Why the approver let it go beyond the element's budget."""


class LedgerEntry(MissionScoped, Base):
    """An approval, a payment or a reversal: written once, never changed (see :class:`AppendOnly`)."""

    __tablename__ = "ctm_ledger_entry"
    __table_args__ = (in_the_case_mission(),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(index=True)
    disbursement_id: Mapped[int] = mapped_column(ForeignKey("ctm_disbursement.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    reverses_id: Mapped[int | None] = mapped_column(ForeignKey("ctm_ledger_entry.id"), unique=True)
    amount: Mapped[Decimal] = mapped_column(money.AMOUNT)
    """Always above zero; a reversal takes back the amount of the entry it reverses."""
    currency: Mapped[str] = mapped_column(money.CURRENCY)
    project_code: Mapped[str] = mapped_column(String(40), index=True)
    donor: Mapped[str | None] = mapped_column(String(120))
    """The project's donor in the mission's settings when the entry was written."""
    by: Mapped[str] = mapped_column(String(80))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    reason_sealed: Mapped[str | None] = mapped_column("reason", sealed_type())
    reason = Sealed()
    """A reversal's reason; an approval's override reason."""
    paid_on: Mapped[date | None] = mapped_column(Date)
    payment_method: Mapped[str | None] = mapped_column(String(20))
    receipt_reference: Mapped[str | None] = mapped_column(String(60))
    payee: Mapped[str | None] = mapped_column(String(10))
    payee_name: Mapped[str | None] = mapped_column(String(120))
    """The provider's name when the provider is paid; none for the person (no identity in the ledger)."""


@event.listens_for(Session, "before_flush")
def _ledger_is_append_only(session: Session, _flush_context: object, _instances: object) -> None:
    for obj in session.deleted:
        if isinstance(obj, LedgerEntry):
            raise AppendOnly("a ledger entry cannot be deleted: write a reversal")
    for obj in session.dirty:
        if isinstance(obj, LedgerEntry) and session.is_modified(obj, include_collections=False):
            raise AppendOnly("a ledger entry cannot be changed: write a reversal")


@dataclass
class Totals:
    """Per currency: planned (budgets of elements not cancelled), approved, paid, reversed, remaining."""

    planned: dict[str, Decimal] = field(default_factory=dict)
    approved: dict[str, Decimal] = field(default_factory=dict)
    paid: dict[str, Decimal] = field(default_factory=dict)
    reversed: dict[str, Decimal] = field(default_factory=dict)

    @property
    def currencies(self) -> list[str]:
        return sorted({*self.planned, *self.approved, *self.paid, *self.reversed})

    @property
    def remaining(self) -> dict[str, Decimal]:
        """Planned less approved, per currency (what the plan may still approve)."""
        return {c: self.planned.get(c, Decimal(0)) - self.approved.get(c, Decimal(0)) for c in self.currencies}


def net(entries: Iterable[LedgerEntry]) -> tuple[dict[str, Decimal], dict[str, Decimal], dict[str, Decimal]]:
    """Approved and paid per currency, each net of its reversals; and what was reversed."""
    rows = list(entries)
    by_id = {e.id: e for e in rows}
    approved: list[tuple[Decimal, str]] = []
    paid: list[tuple[Decimal, str]] = []
    reversed_: list[tuple[Decimal, str]] = []
    for e in rows:
        if e.kind == APPROVAL:
            approved.append((e.amount, e.currency))
        elif e.kind == PAYMENT:
            paid.append((e.amount, e.currency))
        elif e.kind == REVERSAL:
            reversed_.append((e.amount, e.currency))
            target = by_id.get(e.reverses_id or 0)
            if target is not None:
                (approved if target.kind == APPROVAL else paid).append((-e.amount, e.currency))
    return money.totals(approved), money.totals(paid), money.totals(reversed_)


def totals(elements: Iterable[PlanElement], entries: Iterable[LedgerEntry]) -> Totals:
    approved, paid, reversed_ = net(entries)
    planned = money.totals((e.budget, e.currency) for e in elements if e.status != "Cancelled")
    return Totals(planned, approved, paid, reversed_)
