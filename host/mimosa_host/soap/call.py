"""Who is calling, and the call an operation answers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from lxml import etree
from sqlalchemy.orm import Session

from ..models import Beneficiary, Movement
from .envelope import Fault
from .faults import FaultSwitches

R = TypeVar("R", Beneficiary, Movement)


@dataclass(frozen=True)
class Caller:
    """An authenticated API user and the missions it is bound to."""

    username: str
    missions: frozenset[str]

    def require(self, mission_code: str, field: str) -> None:
        """A ``FORBIDDEN_MISSION`` fault naming ``field`` unless the caller may act in the mission."""
        if mission_code not in self.missions:
            raise Fault("FORBIDDEN_MISSION", "The API user is not bound to this record's mission", [field])

    def load(self, session: Session, model: type[R], key: str, field: str) -> R:
        """The beneficiary or movement ``key``; a fault naming ``field`` if it is missing or not the caller's."""
        record = session.get(model, key)
        if record is None:
            raise Fault("NOT_FOUND", f"No such {model.__tablename__}", [field])
        self.require(record.mission_code, field)
        return record


@dataclass(frozen=True)
class Call:
    caller: Caller
    request: etree._Element
    """The Body's request element, valid against the XSD."""
    now: datetime
    faults: FaultSwitches
