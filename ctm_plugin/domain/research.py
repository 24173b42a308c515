"""A research export: requested by a researcher, approved or declined by HQ, downloaded once by the requester.

The request is a row of the mission the researcher asked from (:class:`MissionScoped`); it names the missions
it covers (the researcher's scope for requests when asking), which HQ must all hold in its own scope to decide.
No microdata is stored: the file is made at the download, from the cases as they are then (a consent
withdrawn since the approval is honoured), and what stays is the k-anonymity report (what was generalised
and suppressed) and, of a downloaded file, its people as keyed one-way indexes of their cases
(:class:`ReleasedCase`), which a later export that overlaps it is set beside. ``status`` moves from
``requested`` to ``approved`` or ``declined``, then ``downloaded``, by its version (an optimistic lock), so that
two downloads cannot both succeed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .models import Base, MissionScoped, UTCDateTime, utcnow

CTDC, HTCDS = "CTDC", "HTCDS"
LAYOUTS = (CTDC, HTCDS)

REQUESTED, APPROVED, DECLINED, DOWNLOADED = "requested", "approved", "declined", "downloaded"
STATES = (REQUESTED, APPROVED, DECLINED, DOWNLOADED)


class ResearchExport(MissionScoped, Base):
    __tablename__ = "ctm_research_export"

    id: Mapped[int] = mapped_column(primary_key=True)
    missions: Mapped[list[str]] = mapped_column(JSON)
    """The missions whose cases the export covers, by code."""
    layout: Mapped[str] = mapped_column(String(8))
    year_from: Mapped[int] = mapped_column(Integer)
    year_to: Mapped[int] = mapped_column(Integer)
    """Whole years of registration (the case's opening), both included."""
    purpose: Mapped[str] = mapped_column(Text)
    """What the researcher will use it for, as they wrote it to HQ; never in the export."""
    status: Mapped[str] = mapped_column(String(12), default=REQUESTED, index=True)
    requested_by: Mapped[str] = mapped_column(String(80))
    """The requester's username when asking: what the pages show."""
    requested_by_id: Mapped[int | None] = mapped_column(Integer)
    """The requester's host user id (ctm0026): who the requester is (their own list, the one download, never
    their own approver) though they be renamed since. ``None`` on a request from before ctm0026: its
    username then (:func:`ctm_plugin.services.research_exports.is_requester`)."""
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_by: Mapped[str | None] = mapped_column(String(80))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision_reason: Mapped[str | None] = mapped_column(Text)
    report: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    """The k-anonymity report: at the approval, what the export would generalise; after the download, what it
    did."""
    downloaded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)
    """Moves on with every change: of two decisions or downloads that read the same row, the second to commit is
    refused."""

    __mapper_args__ = {"version_id_col": version}


class ReleasedCase(MissionScoped, Base):
    """A case of a person a downloaded export holds (ctm0032), as a keyed one-way index (HMAC under HQ's index
    key, :func:`ctm_plugin.security.crypto.blind_index`): what a later export that overlaps it is set beside,
    the file as it was released rather than the export made again from today's cases. ``person`` numbers the
    file's people (one row each): the cases of one person share it. A row of the request's mission, deleted
    with it; read by the service's check only, never shown."""

    __tablename__ = "ctm_research_export_case"

    id: Mapped[int] = mapped_column(primary_key=True)
    export_id: Mapped[int] = mapped_column(ForeignKey("ctm_research_export.id", ondelete="CASCADE"), index=True)
    person: Mapped[int] = mapped_column(Integer)
    case_index: Mapped[str] = mapped_column(String(64))
