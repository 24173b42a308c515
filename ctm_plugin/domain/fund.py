"""The global emergency fund: HQ's fund (one currency, a balance, append-only entries) and the missions'
requests to it.

The fund and its entries are HQ's rows (:class:`HqScoped`, no mission); a request belongs to the mission
that made it (:class:`MissionScoped`) and carries HQ's decision, so that the mission sees it.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Date, Integer, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column

from .models import Base, HqScoped, MissionScoped, UTCDateTime, in_the_case_mission, utcnow
from .money import AMOUNT, CURRENCY
from .sealed import Sealed, SealedText, sealed_type

FUND_ID = 1
"""The one fund: its row is made by the migration, so that no two first top-ups race to make it."""
DEFAULT_CURRENCY = "USD"
DEFAULT_MAX_REQUEST = Decimal(5000)
"""The largest request the fund takes, in its currency, until HQ changes it."""

# Entries
TOP_UP = "top_up"
APPROVAL = "approval"

# A request's states
REQUESTED = "requested"
APPROVED = "approved"
REJECTED = "rejected"
STATES = (REQUESTED, APPROVED, REJECTED)

RATE = Numeric(18, 8)
"""An exchange rate: how much of the fund's currency one unit of the request's currency is worth."""


class Fund(HqScoped, Base):
    """The fund's one row: its currency, balance and largest request; ``version`` moves on with every entry,
    so that of two decisions that read the same balance, the second to commit is refused."""

    __tablename__ = "ctm_fund"

    id: Mapped[int] = mapped_column(primary_key=True)
    currency: Mapped[str] = mapped_column(CURRENCY, default=DEFAULT_CURRENCY)
    balance: Mapped[Decimal] = mapped_column(AMOUNT, default=Decimal(0))
    max_request: Mapped[Decimal] = mapped_column(AMOUNT, default=DEFAULT_MAX_REQUEST)
    """The most one approval takes from the fund, in its currency (a request in it is refused above it too)."""
    version: Mapped[int] = mapped_column(Integer, default=1)
    changed_by: Mapped[str | None] = mapped_column(String(80))
    changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __mapper_args__ = {"version_id_col": version}


class FundEntry(HqScoped, Base):
    """One movement of the fund, never changed: a top-up (positive) or an approval (negative), in the
    fund's currency; the entries add up to the balance."""

    __tablename__ = "ctm_fund_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(12))
    amount: Mapped[Decimal] = mapped_column(AMOUNT)
    """Signed: a top-up adds, an approval takes."""
    currency: Mapped[str] = mapped_column(CURRENCY)
    balance_after: Mapped[Decimal] = mapped_column(AMOUNT)
    donor: Mapped[str | None] = mapped_column(String(120))
    project_code: Mapped[str | None] = mapped_column(String(40))
    reference: Mapped[str | None] = mapped_column(String(80))
    on_date: Mapped[date] = mapped_column(Date)
    request_mission: Mapped[str | None] = mapped_column(String(8))
    """An approval's request: its mission and id (the request is that mission's row)."""
    request_id: Mapped[int | None] = mapped_column(Integer)
    recorded_by: Mapped[str] = mapped_column(String(80))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class FundRequest(MissionScoped, Base):
    """A mission's request to the fund for one case, and HQ's decision on it."""

    __tablename__ = "ctm_fund_request"
    __table_args__ = (in_the_case_mission(),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(index=True)
    kind: Mapped[str] = mapped_column(String(20))
    amount: Mapped[Decimal] = mapped_column(AMOUNT)
    currency: Mapped[str] = mapped_column(CURRENCY)
    justification_sealed: Mapped[str] = mapped_column("justification", sealed_type())
    justification = SealedText()
    state: Mapped[str] = mapped_column(String(12), default=REQUESTED, index=True)
    requested_by: Mapped[str] = mapped_column(String(80))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    approved_amount: Mapped[Decimal | None] = mapped_column(AMOUNT)
    """In the request's currency."""
    exchange_rate: Mapped[Decimal | None] = mapped_column(RATE)
    """Set when the request's currency is not the fund's."""
    fund_amount: Mapped[Decimal | None] = mapped_column(AMOUNT)
    fund_currency: Mapped[str | None] = mapped_column(CURRENCY)
    reason_sealed: Mapped[str | None] = mapped_column("reason", sealed_type())
    reason = Sealed()
    """HQ's reason for its decision, which speaks of the person's situation."""
    decided_by: Mapped[str | None] = mapped_column(String(80))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}
