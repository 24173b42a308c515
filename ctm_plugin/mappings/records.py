"""What each mapping id maps: the CTM fields a mapping file may name, and where in the host's
element an outgoing value may be written.

The layouts follow the host's XSD (HOST_CONTRACT.md §2): children in the order the sequence
gives, the attributes each element takes, which elements repeat, which containers the XSD
requires even when empty. A layout is also the allow-list of what may leave (security.md
DP-06): ``MovementRequest`` has no ``Remarks``, no ``Legs`` and no ``Status`` in it, so no
mapping can put anything there.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ctm_plugin.codelists import CodeList, geo, htcds, process

NS = "urn:mimosa:host:v1"
PREFIXES = {"m": NS}
"""The one prefix mapping files use: ``m:`` is the host's namespace."""

IN, OUT = "in", "out"
BOTH = frozenset({IN, OUT})
IN_ONLY = frozenset({IN})


@dataclass(frozen=True)
class Slot:
    """A CTM field a mapping may map."""

    directions: frozenset[str]
    required: bool = False
    """Every mapping of the record must map it."""
    many: bool = False
    """A list in the CTM; with ``parts``, a list of dicts (one per host element)."""
    codelist: CodeList | None = None
    """The CTM values it may take."""
    parts: tuple[str, ...] = ()


@dataclass(frozen=True)
class Layout:
    children: Mapping[str, tuple[str, ...]]
    """Element path (local names joined by ``/``; ``""`` is the record) → children, in the XSD's order."""
    attributes: Mapping[str, tuple[str, ...]]
    repeated: frozenset[str]
    always: tuple[str, ...] = ()
    """Containers the XSD requires even when they hold nothing."""


@dataclass(frozen=True)
class RecordType:
    id: str
    element_in: str
    """The host element read (``map_in``)."""
    element_out: str
    """The host element written (``map_out``)."""
    slots: Mapping[str, Slot]
    layout: Layout


BENEFICIARY = RecordType(
    id="beneficiary",
    element_in="Beneficiary",
    element_out="Beneficiary",
    slots={
        "beneficiary_id": Slot(BOTH, required=True),
        "mission_code": Slot(BOTH, required=True),
        "family_name": Slot(BOTH, required=True),
        "given_name": Slot(BOTH, required=True),
        "middle_name": Slot(BOTH),
        "gender": Slot(BOTH, required=True, codelist=htcds.GENDER),
        "birth_date": Slot(BOTH),
        "birth_date_precision": Slot(BOTH, codelist=process.DATE_PRECISION),
        "nationality": Slot(BOTH, codelist=geo.COUNTRY),
        "citizenships": Slot(IN_ONLY, many=True, codelist=geo.COUNTRY),
        "documents": Slot(BOTH, many=True, parts=("type", "number", "issuing_country", "expires")),
        "languages": Slot(BOTH, many=True, codelist=geo.LANGUAGE),
        # The host replaces the whole record on a save: its codes must come back as they went.
        "vulnerabilities": Slot(BOTH, many=True),
        "project_code": Slot(BOTH),
        "record_version": Slot(BOTH),
        "last_modified": Slot(IN_ONLY),
    },
    layout=Layout(
        children={
            "": (
                "BeneficiaryId",
                "MissionCode",
                "Name",
                "Sex",
                "BirthDate",
                "Nationality",
                "Documents",
                "Languages",
                "Vulnerabilities",
                "ProjectCode",
                "RecordVersion",
            ),
            "Name": ("FamilyName", "GivenName", "MiddleName"),
            "Documents": ("Document",),
            "Languages": ("Language",),
            "Vulnerabilities": ("Code",),
        },
        attributes={"BirthDate": ("estimated",), "Documents/Document": ("type", "number", "issuingCountry", "expires")},
        repeated=frozenset({"Documents/Document", "Languages/Language", "Vulnerabilities/Code"}),
        always=("Documents", "Languages", "Vulnerabilities"),
    ),
)

MOVEMENT = RecordType(
    id="movement",
    element_in="Movement",
    element_out="MovementRequest",
    slots={
        "movement_id": Slot(IN_ONLY, required=True),
        "mission_code": Slot(BOTH, required=True),
        "project_code": Slot(BOTH, required=True),  # the host books under a project (HOST_CONTRACT.md §2)
        "movement_type": Slot(BOTH, required=True),
        "beneficiary_ids": Slot(BOTH, required=True, many=True),
        "origin_country": Slot(BOTH, required=True, codelist=geo.COUNTRY),
        "origin_location": Slot(BOTH, required=True),
        "destination_country": Slot(BOTH, required=True, codelist=geo.COUNTRY),
        "destination_location": Slot(BOTH, required=True),
        "earliest_departure": Slot(BOTH, required=True),
        "escort": Slot(BOTH, required=True),
        "fit_to_travel": Slot(BOTH, required=True),
        "legs": Slot(
            IN_ONLY, many=True, parts=("sequence", "carrier", "flight_number", "from", "to", "departure", "arrival")
        ),
        "status": Slot(IN_ONLY, required=True),
    },
    layout=Layout(
        children={
            "": (
                "MissionCode",
                "ProjectCode",
                "MovementType",
                "Beneficiaries",
                "Origin",
                "Destination",
                "EarliestDeparture",
                "Escort",
                "FitToTravel",
            ),
            "Beneficiaries": ("BeneficiaryId",),
        },
        attributes={"Origin": ("country", "location"), "Destination": ("country", "location"), "Escort": ("type",)},
        repeated=frozenset({"Beneficiaries/BeneficiaryId"}),
    ),
)

RECORDS = {record.id: record for record in (BENEFICIARY, MOVEMENT)}
