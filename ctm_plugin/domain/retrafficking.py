"""Re-trafficking: a person identified again in a mission after an earlier case (in the same mission or another)
is a *match* HQ confirms or dismisses.

A match is HQ's row (:class:`HqScoped`, no mission): the plugin-wide matching job (``Job.plugin_wide``) writes it,
reading each mission through its own session. It holds no name and no document number: the two cases by mission
and id (and case number, for HQ's page), the kind of evidence, the fuzzy score, and the explanation as codes.

The rules here are pure: normalising names, Jaro-Winkler similarity, birth dates that agree, and what a pair of
people's facts make of a match.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy import Boolean, Date, Integer, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ctm_plugin.codelists.geo import folded
from ctm_plugin.i18n import N_

from .models import Base, HqScoped, UTCDateTime, utcnow

# Evidence
DOCUMENT = "document"
"""The same travel document (its blind index under HQ's index key: same number, same index, in every mission)."""
FUZZY = "fuzzy"
"""Names this similar, the birth date and a citizenship in common."""

# Explanation codes (what HQ's page says, translated; never the value itself)
SAME_DOCUMENT = "same_document"
NAME_SIMILAR = "name_similar"
SAME_BIRTH_DATE = "same_birth_date"
BIRTH_DATE_SWAPPED = "birth_date_day_month_swapped"
SAME_CITIZENSHIP = "same_citizenship"
EXPLANATIONS = {
    SAME_DOCUMENT: N_("same travel document number"),
    NAME_SIMILAR: N_("name %(score)s similar"),
    SAME_BIRTH_DATE: N_("same birth date"),
    BIRTH_DATE_SWAPPED: N_("birth date with day and month swapped"),
    SAME_CITIZENSHIP: N_("same citizenship"),
}

# A match's states
OPEN, CONFIRMED, DISMISSED = "open", "confirmed", "dismissed"
STATES = {OPEN: N_("Open"), CONFIRMED: N_("Confirmed"), DISMISSED: N_("Dismissed")}

NAME_THRESHOLD = Decimal("0.90")
"""The least Jaro-Winkler similarity of two normalised names that, with the birth date and a citizenship in
common, makes a match. At 0.90 a transliteration's usual differences (Sokha/Sokhar, one letter typed twice, a
middle name dropped from one record, names in another order) still match, while two different given names
sharing a family name (Sokha/Sophal Synthetic: 0.86) do not; the birth date and the citizenship must agree
besides, so a common name alone never matches. HQ confirms or dismisses every match: a false one costs a
dismissal, a missed one a person not protected."""


class RetraffickingMatch(HqScoped, Base):
    """Two cases of (HQ thinks) one person: the earlier one, opened first, and the later one."""

    __tablename__ = "ctm_retrafficking_match"
    __table_args__ = (
        UniqueConstraint(
            "earlier_mission",
            "earlier_case_id",
            "later_mission",
            "later_case_id",
            name="uq_ctm_retrafficking_match_pair",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    earlier_mission: Mapped[str] = mapped_column(String(8), index=True)
    earlier_case_id: Mapped[int] = mapped_column(Integer)
    earlier_case_number: Mapped[str] = mapped_column(String(40))
    earlier_opened_on: Mapped[date] = mapped_column(Date)
    later_mission: Mapped[str] = mapped_column(String(8), index=True)
    later_case_id: Mapped[int] = mapped_column(Integer)
    later_case_number: Mapped[str] = mapped_column(String(40))
    later_opened_on: Mapped[date] = mapped_column(Date)
    evidence: Mapped[str] = mapped_column(String(12))
    """:data:`DOCUMENT` or :data:`FUZZY`."""
    score: Mapped[Decimal] = mapped_column(Numeric(4, 3))
    """The names' similarity (1 for a document's match)."""
    explanation: Mapped[str] = mapped_column(String(200))
    """The explanation's codes (:data:`EXPLANATIONS`), comma-separated."""
    shared_with_earlier: Mapped[bool] = mapped_column(Boolean, default=False)
    """The later case's consent to sharing with another mission is in force: once HQ confirmed the match, the
    earlier mission sees a flag on its case (computed by each run of the job, which alone reads the later
    mission's consent; cleared when the consent is withdrawn or the later case is gone)."""
    status: Mapped[str] = mapped_column(String(12), default=OPEN, index=True)
    found_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_by: Mapped[str | None] = mapped_column(String(80))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_in: Mapped[str | None] = mapped_column(String(8))
    """The mission HQ acted from (its audit trail has the decision)."""
    reason: Mapped[str | None] = mapped_column(String(500))
    """HQ's reason: what it checked of the evidence, not about the person (the form says so). Plain, as the fund's
    donor is: a sealed value needs a mission's key, and a mission's key rotation re-seals only what its own
    sessions see, which HQ's rows are not."""

    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}

    @property
    def codes(self) -> list[str]:
        return [code for code in str(self.explanation or "").split(",") if code]


FLAG_VIEW = "ctm_retrafficking_flag"
FLAGS = sa.Table(
    FLAG_VIEW,
    sa.MetaData(),  # a view (ctm0031), not one of the tables the models create
    sa.Column("id", Integer, primary_key=True),
    sa.Column("earlier_mission", String(8)),
    sa.Column("earlier_case_id", Integer),
    sa.Column("later_mission", String(8)),
    sa.Column("later_opened_on", Date),
    sa.Column("status", String(12)),
)
"""The earlier mission's flags (ctm0031): of HQ's matches, those HQ confirmed whose later case's consent lets the
earlier mission know, and of each only the earlier case it names and where and when the person was identified
again: no later case, its number, the evidence or the score. A mission reads them through this view alone; on
PostgreSQL the view shows only the matches of the mission set for the transaction, and row-level security keeps
the matches themselves HQ's (a mission's session reads none, :meth:`HqScoped.read_in_mission`)."""


# -- the rules ---------------------------------------------------------------------------------------------------


def normalised_name(name: str) -> str:
    """Case folded, accents stripped, punctuation as spaces, tokens sorted: the order of given and family names
    differs between records and countries, and transliterations drop accents."""
    tokens = "".join(c if c.isalnum() else " " for c in folded(name)).split()
    return " ".join(sorted(tokens))


def jaro_winkler(a: str, b: str) -> float:
    """The Jaro-Winkler similarity of two texts (0 to 1; 1: the same), with the usual prefix scale 0.1 over
    at most four characters. Written here (twenty lines) rather than a dependency for it."""
    if a == b:
        return 1.0 if a else 0.0
    if not a or not b:
        return 0.0
    window = max(max(len(a), len(b)) // 2 - 1, 0)
    matched_a, matched_b = [False] * len(a), [False] * len(b)
    matches = 0
    for i, char in enumerate(a):
        for j in range(max(0, i - window), min(len(b), i + window + 1)):
            if not matched_b[j] and b[j] == char:
                matched_a[i] = matched_b[j] = True
                matches += 1
                break
    if not matches:
        return 0.0
    in_a = [c for c, m in zip(a, matched_a, strict=True) if m]
    in_b = [c for c, m in zip(b, matched_b, strict=True) if m]
    transpositions = sum(x != y for x, y in zip(in_a, in_b, strict=True)) / 2
    jaro = (matches / len(a) + matches / len(b) + (matches - transpositions) / matches) / 3
    prefix = 0
    for x, y in zip(a[:4], b[:4], strict=False):
        if x != y:
            break
        prefix += 1
    return jaro + prefix * 0.1 * (1 - jaro)


def name_similarity(a: str, b: str) -> float:
    """How alike two normalised names are: each token of the one with fewer tokens against its closest
    token of the other (Jaro-Winkler), the weakest of them. Every name the shorter record gives must be
    found in the other, so a shared family name does not carry a different given name, and a middle name
    one record drops costs nothing."""
    short, long = sorted((a.split(), b.split()), key=len)
    if not short:
        return 0.0
    return min(max(jaro_winkler(token, other) for other in long) for token in short)


def birth_dates_agree(a: date | None, b: date | None) -> str | None:
    """:data:`SAME_BIRTH_DATE`, :data:`BIRTH_DATE_SWAPPED` (one record read 03/04 as 4 March, the other as
    3 April), or ``None``."""
    if a is None or b is None:
        return None
    if a == b:
        return SAME_BIRTH_DATE
    if a.year == b.year and a.day == b.month and a.month == b.day:
        return BIRTH_DATE_SWAPPED
    return None


@dataclass(frozen=True)
class Identity:
    """What the job knows of one case's person, in its process only: never logged, never stored."""

    mission: str
    case_id: int
    case_number: str
    opened_on: date
    documents: frozenset[str]
    """The blind indexes of the case's travel documents."""
    name: str
    """Normalised (:func:`normalised_name`); empty when the case holds none."""
    birth_date: date | None
    citizenships: frozenset[str]
    shares: bool
    """Its consent to sharing with another mission is in force."""

    @property
    def ref(self) -> tuple[str, int]:
        return (self.mission, self.case_id)


class Linked:
    """Cases known to be one person's (joined by hand-overs, a chain of them too; a research export joins HQ's
    confirmed matches besides): each case's :meth:`root` names its person."""

    def __init__(self) -> None:
        self.parent: dict[tuple[str, int], tuple[str, int]] = {}

    def root(self, ref: tuple[str, int]) -> tuple[str, int]:
        while self.parent.get(ref, ref) != ref:
            ref = self.parent[ref]
        return ref

    def join(self, a: tuple[str, int], b: tuple[str, int]) -> None:
        self.parent[self.root(a)] = self.root(b)

    def same(self, a: tuple[str, int], b: tuple[str, int]) -> bool:
        return self.root(a) == self.root(b)


@dataclass(frozen=True)
class Evidence:
    kind: str
    score: Decimal
    codes: tuple[str, ...]


def evidence(a: Identity, b: Identity) -> Evidence | None:
    """What makes ``a`` and ``b`` one person, if anything: the same document first, else names at least
    :data:`NAME_THRESHOLD` similar with the birth date and a citizenship in common."""
    if a.documents & b.documents:
        return Evidence(DOCUMENT, Decimal(1), (SAME_DOCUMENT,))
    born = birth_dates_agree(a.birth_date, b.birth_date)
    if not (a.name and b.name and born and a.citizenships & b.citizenships):
        return None
    score = Decimal(str(round(name_similarity(a.name, b.name), 2)))
    if score < NAME_THRESHOLD:
        return None
    return Evidence(FUZZY, score, (NAME_SIMILAR, born, SAME_CITIZENSHIP))
