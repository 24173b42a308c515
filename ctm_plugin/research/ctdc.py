"""A case as a research export's row: the CTDC global dataset's variables and code values (codebook v2, 2024;
data-standards.md §2.2 and §5), or HTCDS columns.

What a row may hold is decided here, field by field, from :class:`CaseFacts`: codes only. No name, no birth
date, no document number, no free text (notes, reasons, places, localities, aliases) ever reaches a row: they
are not even read (:data:`FACT_FIELDS`, and a test checks that no sealed or free-text column is among them).
The quasi-identifiers (age band, gender, citizenship, country of exploitation, year) come generalised from
:mod:`ctm_plugin.research.kanonymity`; the other columns are flags and codes that the k-anonymity of the
quasi-identifiers covers as CTDC's does. HTCDS's columns hold the codes themselves, where one rare code (an
industry, a means of control few people knew) would single a person out: a code fewer than k of the export's
people hold leaves its column (:func:`rare_codes`): a multi-select says ``Other`` instead, itself only when k
people hold it; a single code is left empty.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Final

from ctm_plugin.codelists.htcds import LABOUR_INDUSTRY
from ctm_plugin.domain.research import CTDC, HTCDS

from .kanonymity import SUPPRESSED, Value, age_band


@dataclass(frozen=True)
class CaseFacts:
    """What an export reads of one case: codes and numbers, nothing a person wrote."""

    opened_on: date
    birth_date: date | None
    gender: str | None
    citizenships: Sequence[str]
    exploitation_country: str | None
    trafficking_status: str | None = None
    recruitment_methods: Sequence[str] = field(default_factory=tuple)
    control_methods: Sequence[str] = field(default_factory=tuple)
    exploitation_types: Sequence[str] = field(default_factory=tuple)
    labour_industry: str | None = None
    sexual_exploitation_types: Sequence[str] = field(default_factory=tuple)
    recruiter_relationship: str | None = None

    @property
    def age(self) -> int | None:
        """Age in whole years when the case was opened (CTDC: "at assistance/identification")."""
        if self.birth_date is None or self.birth_date > self.opened_on:
            return None
        born, on = self.birth_date, self.opened_on
        return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


FACT_FIELDS: Final = {
    "ctm_case": ("opened_on",),
    "ctm_person": ("birth_date", "gender", "citizenships"),
    "ctm_event": ("country",),
    "ctm_victim_context": (
        "trafficking_status",
        "recruitment_methods",
        "control_methods",
        "exploitation_types",
        "labour_industry",
        "sexual_exploitation_types",
        "recruiter_relationship",
    ),
}
"""Every column an export reads, by table: the test of what never reaches an export checks this list."""

# -- CTDC ---------------------------------------------------------------------------------------------------

CTDC_GENDER: Final = {
    "Feminine": "Woman",
    "Masculine": "Man",
    "TransgenderFeminine": "Trans/Transgender/NonConforming",
    "TransgenderMasculine": "Trans/Transgender/NonConforming",
    "NonConforming": "Trans/Transgender/NonConforming",
}
"""HTCDS prs_Gender to CTDC gender; NonSpecifiedUnknown is NULL."""

MEANS: Final = {  # codebook v2's merged means of control (Appendix II)
    "meansDebtBondageEarnings": ("DebtBondage", "TakesEarnings"),
    "meansThreats": ("Threats", "UsesChildren", "ThreatOfLawEnforcement"),
    "meansAbusePsyPhySex": ("PsychologicalAbuse", "PhysicalAbuse", "SexualAbuse"),
    "meansFalsePromises": ("FalsePromises",),
    "meansDrugsAlcohol": ("PsychoactiveSubstances",),
    "meansDenyBasicNeeds": (
        "RestrictsFinancialAccess",
        "RestrictsMovement",
        "RestrictsMedicalCare",
        "WithholdsNecessities",
    ),
    "meansExcessiveWorkHours": ("ExcessiveWorkingHours",),
    "meansWithholdDocs": ("WithholdsDocuments",),
}
EXPLOITATION: Final = {  # data-standards.md §5: mapping choices, not published rules
    "isForcedLabour": ("ForcedLabour", "ChildLabour", "ForcedBegging", "Servitude"),
    "isSexualExploit": ("SexualExploitation",),
    "isOtherExploit": (
        "ForcedMarriage",
        "ForcedMilitaryByNonStateActors",
        "OrganRemoval",
        "ForcedAdoption",
        "Surrogacy",
        "Other",
    ),
}
LABOUR: Final = {  # ISIC Rev.4: division A01 (not forestry, not fishing), sections F, T, I
    "typeOfLabourAgriculture": "A01",
    "typeOfLabourConstruction": "F",
    "typeOfLabourDomesticWork": "T",
    "typeOfLabourHospitality": "I",
}
SEX: Final = {"typeOfSexProstitution": "Prostitution", "typeOfSexPornography": "Pornography"}
RECRUITER: Final = {
    "recruiterRelationIntimatePartner": "IntimatePartner",
    "recruiterRelationFriend": "Friend",
    "recruiterRelationFamily": "Family",
    "recruiterRelationOther": "Other",
}

QUASI_COLUMNS: Final = {
    # layout: the quasi-identifiers' columns in kanonymity.QUASI_IDENTIFIERS' order (age, sex, citizenship,
    # country of exploitation, year)
    CTDC: ("ageBroad", "gender", "citizenship", "CountryOfExploitation", "yearOfRegistration"),
    HTCDS: ("vic_AgeBroad", "prs_Gender", "prs_Citizenship", "vic_CountryOfExploitation", "cas_YearOfRegistration"),
}
"""HTCDS has no age band, year of registration or country of exploitation as a code: the three columns carry
CTDC's values under HTCDS-style names (``vic_``/``cas_`` prefixes), since an exact birth date or location may
never leave."""

CTDC_COLUMNS: Final = (
    "yearOfRegistration",
    "gender",
    "ageBroad",
    "citizenship",
    "CountryOfExploitation",
    "traffickMonths",
    *MEANS,
    *EXPLOITATION,
    *LABOUR,
    *SEX,
    *RECRUITER,
)
"""The codebook v2's 27 variables, in its order."""

HTCDS_COLUMNS: Final = (
    "cas_YearOfRegistration",
    "prs_Gender",
    "vic_AgeBroad",
    "prs_Citizenship",
    "vic_CountryOfExploitation",
    "vic_TraffickingStatus",
    "vic_MethodOfRecruitment",
    "vic_MethodsOfControl",
    "vic_TypeOfExploitation",
    "vic_ForcedLabourIndustry",
    "vic_TypeOfSexExploitation",
    "vic_RecruiterRelationship",
)
"""HTCDS v2.0 fields (multiselects joined by ``;``); the labour industry as its ISIC section (tier 1), the
recruiter relationship in CTDC's values, as the CTM records it."""

COLUMNS: Final = {CTDC: CTDC_COLUMNS, HTCDS: HTCDS_COLUMNS}


def quasi_identifiers(layout: str, facts: CaseFacts) -> tuple[Value, ...]:
    """The case's quasi-identifiers at their finest, in the layout's values."""
    age = facts.age
    gender = CTDC_GENDER.get(facts.gender or "") if layout == CTDC else facts.gender
    if layout == HTCDS and gender == "NonSpecifiedUnknown":
        gender = None
    citizenship = facts.citizenships[0] if facts.citizenships else None
    return (
        None if age is None else age_band(age),
        gender,
        citizenship,
        facts.exploitation_country,
        str(facts.opened_on.year),
    )


def _flag(present: bool) -> str:
    return "1" if present else ""


def _section(industry: str | None) -> str | None:
    """The ISIC section (tier 1 code) of an industry code of any tier; ``None`` for none or an unknown code."""
    code = LABOUR_INDUSTRY[industry] if industry and industry in LABOUR_INDUSTRY else None
    while code is not None and code.parent is not None:
        code = LABOUR_INDUSTRY[code.parent]
    return code.value if code is not None else None


def _in_labour(industry: str | None, isic: str) -> bool:
    """Whether an industry code falls under an ISIC section letter ("F") or division ("A01")."""
    if len(isic) == 1:
        return (_section(industry) or "").startswith(isic)
    return bool(industry) and industry.startswith(isic)  # type: ignore[union-attr]


OTHER: Final = "Other"
"""What an HTCDS multi-select says of the codes too rare to keep (HTCDS's own ``Other``)."""
HTCDS_MULTI: Final = frozenset(
    {"vic_MethodOfRecruitment", "vic_MethodsOfControl", "vic_TypeOfExploitation", "vic_TypeOfSexExploitation"}
)
Rare = Collection[tuple[str, str]]
"""(column, code) pairs an export leaves out: held by fewer than k of its people."""


def htcds_codes(facts: CaseFacts) -> dict[str, tuple[str, ...]]:
    """The codes each HTCDS column past the quasi-identifiers holds of a case: the labour industry as its ISIC
    section (tier 1), the recruiter relationship in CTDC's values, as the CTM records it."""

    def one(value: str | None) -> tuple[str, ...]:
        return (value,) if value else ()

    return {
        "vic_TraffickingStatus": one(facts.trafficking_status),
        "vic_MethodOfRecruitment": tuple(facts.recruitment_methods),
        "vic_MethodsOfControl": tuple(facts.control_methods),
        "vic_TypeOfExploitation": tuple(facts.exploitation_types),
        "vic_ForcedLabourIndustry": one(_section(facts.labour_industry)),
        "vic_TypeOfSexExploitation": tuple(facts.sexual_exploitation_types),
        "vic_RecruiterRelationship": one(facts.recruiter_relationship),
    }


def _kept(column: str, codes: Iterable[str], rare: Rare) -> set[str]:
    """A column's codes less the rare ones; a multi-select's rare ones as :data:`OTHER`, unless it is rare too."""
    codes = set(codes)
    kept = {code for code in codes if (column, code) not in rare}
    if column in HTCDS_MULTI and kept != codes and (column, OTHER) not in rare:
        kept.add(OTHER)
    return kept


def rare_codes(layout: str, facts: Iterable[CaseFacts], k: int) -> frozenset[tuple[str, str]]:
    """The HTCDS codes fewer than k of ``facts`` (an export's people) hold, by column; then ``Other`` where fewer
    than k hold it once the rare codes are said so. None in CTDC's layout, whose flags group the codes."""
    if layout != HTCDS:
        return frozenset()
    cases = [htcds_codes(f) for f in facts]
    held = Counter((column, code) for codes in cases for column, values in codes.items() for code in set(values))
    rare = {key for key, n in held.items() if n < k}
    others = Counter(
        column for codes in cases for column, values in codes.items() if OTHER in _kept(column, values, rare)
    )
    return frozenset(rare | {(column, OTHER) for column, n in others.items() if n < k})


def ctdc_rest(facts: CaseFacts, _rare: Rare = ()) -> dict[str, str]:
    """The CTDC columns that are not quasi-identifiers: 1 or NULL (empty) flags."""
    controls, types = set(facts.control_methods), set(facts.exploitation_types)
    row = {"traffickMonths": ""}
    row |= {name: _flag(bool(controls & set(items))) for name, items in MEANS.items()}
    row |= {name: _flag(bool(types & set(items))) for name, items in EXPLOITATION.items()}
    row |= {name: _flag(_in_labour(facts.labour_industry, isic)) for name, isic in LABOUR.items()}
    row |= {name: _flag(value in facts.sexual_exploitation_types) for name, value in SEX.items()}
    row |= {name: _flag(facts.recruiter_relationship == value) for name, value in RECRUITER.items()}
    return row


def htcds_rest(facts: CaseFacts, rare: Rare = ()) -> dict[str, str]:
    """The HTCDS columns past the quasi-identifiers (multi-selects joined by ``;``), less the ``rare`` codes."""
    return {column: ";".join(sorted(_kept(column, codes, rare))) for column, codes in htcds_codes(facts).items()}


REST: Final[dict[str, Callable[[CaseFacts, Rare], dict[str, str]]]] = {CTDC: ctdc_rest, HTCDS: htcds_rest}


_HEAD: Final = {layout: len(QUASI_COLUMNS[layout]) for layout in COLUMNS}
_QUASI_ORDER: Final = {
    layout: [QUASI_COLUMNS[layout].index(name) for name in COLUMNS[layout][: _HEAD[layout]]] for layout in COLUMNS
}
"""Each layout starts with its quasi-identifiers' columns (in its own order): where each comes from."""


def head(layout: str, quasi: Sequence[Value]) -> list[str]:
    """The row's first cells: the generalised quasi-identifiers, a missing or suppressed one empty (CTDC's
    NULL)."""
    cells = [quasi[i] for i in _QUASI_ORDER[layout]]
    return ["" if cell is None or cell == SUPPRESSED else cell for cell in cells]


def tail_key(facts: CaseFacts) -> tuple[object, ...]:
    """What :func:`tail` reads of a case: rows that share it share their tail (an export memoises it)."""
    return (
        facts.trafficking_status,
        tuple(facts.recruitment_methods),
        tuple(facts.control_methods),
        tuple(facts.exploitation_types),
        facts.labour_industry,
        tuple(facts.sexual_exploitation_types),
        facts.recruiter_relationship,
    )


def tail(layout: str, facts: CaseFacts, rare: Rare = ()) -> list[str]:
    """The row's other cells, in the layout's order, less the ``rare`` codes (:func:`rare_codes`)."""
    rest = REST[layout](facts, rare)
    return [rest[name] for name in COLUMNS[layout][_HEAD[layout] :]]


def row(layout: str, quasi: Sequence[Value], facts: CaseFacts, rare: Rare = ()) -> list[str]:
    """One export row in the layout's column order."""
    return head(layout, quasi) + tail(layout, facts, rare)
