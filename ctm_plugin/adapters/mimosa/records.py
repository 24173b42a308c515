"""The host's records as the services handle them: mapped by the mission's mappings into values,
and the requests the mappings build kept as text, so that no service reads or writes XML."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lxml import etree

from ctm_plugin.mappings.engine import FieldError, Mapping, map_in, map_out

from .reply import HOST_NS


@dataclass(frozen=True)
class BeneficiaryRecord:
    """A host ``Beneficiary``: its identity at the host, and what the mapping reads of it."""

    beneficiary_id: str
    record_version: int | None
    """The host's ``RecordVersion``: an update must carry the one the CTM last saw."""
    values: dict[str, Any]
    """Every in-field of the mapping, or those asked for (``None`` or ``[]`` where the host has no value)."""
    errors: tuple[FieldError, ...]
    """What the mapping could not read; the record is not to be used when there is any."""


def beneficiary(element: etree._Element, mapping: Mapping, only: frozenset[str] | None = None) -> BeneficiaryRecord:
    """``element`` (as the client returned it, its ``BeneficiaryId`` checked) read by ``mapping`` (its in-fields
    named in ``only`` alone, when given)."""
    mapped = map_in(mapping, element, only)
    version = (element.findtext(f"{{{HOST_NS}}}RecordVersion") or "").strip()
    return BeneficiaryRecord(
        beneficiary_id=beneficiary_id(element),
        record_version=int(version) if version.isdigit() else None,
        values=mapped.values,
        errors=mapped.errors,
    )


def beneficiary_id(element: etree._Element) -> str:
    """The ``BeneficiaryId`` of a host ``Beneficiary`` element, without mapping the rest of it."""
    return (element.findtext(f"{{{HOST_NS}}}BeneficiaryId") or "").strip()


def request_text(mapping: Mapping, record: dict[str, Any]) -> str:
    """The request element ``mapping`` builds for ``record``, as the outbox keeps it until sent."""
    return etree.tostring(map_out(mapping, record), encoding="unicode")
