"""BeneficiaryService: GetBeneficiary, FindBeneficiaries, SaveBeneficiary.

FindBeneficiaries matches FamilyName and GivenName case-insensitively by prefix ("ka" finds
"Kaew"; on SQLite only ASCII letters fold), BirthDate, Nationality and DocumentNumber exactly,
and ModifiedSince as LastModified strictly after it. Results come ordered by LastModified,
then BeneficiaryId, so that paging is stable and a client can follow changes by
ModifiedSince. A save replaces the whole record and raises RecordVersion by one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime
from typing import Any, Protocol

import sqlalchemy as sa
from lxml import etree
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from ..models import Beneficiary, Document
from .call import Call
from .envelope import NS, Fault
from .idempotency import idempotent
from .ids import next_id
from .messages import (
    E,
    children,
    find,
    fmt_bool,
    fmt_datetime,
    parse_bool,
    parse_date,
    parse_datetime,
    q,
    required,
    required_text,
    serialise,
    text,
)

_BENEFICIARY, _ID, _MISSION, _NAME, _FAMILY, _GIVEN, _MIDDLE, _SEX, _BIRTH, _NATIONALITY = map(q, (
    "Beneficiary", "BeneficiaryId", "MissionCode", "Name", "FamilyName", "GivenName", "MiddleName", "Sex",
    "BirthDate", "Nationality",
))  # fmt: skip
_DOCUMENTS, _DOCUMENT, _LANGUAGES, _LANGUAGE, _VULNERABILITIES, _CODE, _PROJECT, _VERSION, _MODIFIED = map(q, (
    "Documents", "Document", "Languages", "Language", "Vulnerabilities", "Code", "ProjectCode", "RecordVersion",
    "LastModified",
))  # fmt: skip
_B, _D = Beneficiary.__table__, Document.__table__
_COLUMNS = (
    _B.c.beneficiary_id, _B.c.mission_code, _B.c.family_name, _B.c.given_name, _B.c.middle_name, _B.c.sex,
    _B.c.birth_date, _B.c.birth_date_estimated, _B.c.nationality, _B.c.languages, _B.c.vulnerabilities,
    _B.c.project_code, _B.c.record_version, _B.c.last_modified,
)  # fmt: skip
_DOCUMENT_COLUMNS = (_D.c.beneficiary_id, _D.c.type, _D.c.number, _D.c.issuing_country, _D.c.expires)
ORDER = (_B.c.last_modified, _B.c.beneficiary_id)
"""The order of a FindBeneficiaries answer: that of the index ``ix_beneficiary_mission_page``."""


class _Person(Protocol):
    """A beneficiary as the serialiser reads it: an ORM entity or a Core row of :data:`_COLUMNS`."""

    beneficiary_id: str
    mission_code: str
    family_name: str
    given_name: str
    middle_name: str | None
    sex: str
    birth_date: date | None
    birth_date_estimated: bool
    nationality: str | None
    languages: list[str]
    vulnerabilities: list[str]
    project_code: str | None
    record_version: int
    last_modified: datetime


class _Paper(Protocol):
    type: str
    number: str
    issuing_country: str
    expires: date | None


def _leaf(parent: etree._Element, tag: str, value: str) -> None:
    etree.SubElement(parent, tag).text = value


def _append(parent: etree._Element, b: _Person, documents: Iterable[_Paper]) -> None:
    """``b`` as a ``Beneficiary`` child of ``parent`` (etree.SubElement: one C call per element)."""
    sub = etree.SubElement
    el = sub(parent, _BENEFICIARY)
    sub(el, _ID).text = b.beneficiary_id
    sub(el, _MISSION).text = b.mission_code
    name = sub(el, _NAME)
    sub(name, _FAMILY).text = b.family_name
    sub(name, _GIVEN).text = b.given_name
    if b.middle_name is not None:
        sub(name, _MIDDLE).text = b.middle_name
    sub(el, _SEX).text = b.sex
    if b.birth_date:
        sub(el, _BIRTH, estimated=fmt_bool(b.birth_date_estimated)).text = b.birth_date.isoformat()
    if b.nationality is not None:
        sub(el, _NATIONALITY).text = b.nationality
    papers = sub(el, _DOCUMENTS)
    for d in documents:
        attributes = {"type": d.type, "number": d.number, "issuingCountry": d.issuing_country}
        if d.expires:
            attributes["expires"] = d.expires.isoformat()
        sub(papers, _DOCUMENT, attributes)
    languages = sub(el, _LANGUAGES)
    for code in b.languages:
        sub(languages, _LANGUAGE).text = code
    vulnerabilities = sub(el, _VULNERABILITIES)
    for code in b.vulnerabilities:
        sub(vulnerabilities, _CODE).text = code
    if b.project_code is not None:
        sub(el, _PROJECT).text = b.project_code
    sub(el, _VERSION).text = str(b.record_version)
    sub(el, _MODIFIED).text = fmt_datetime(b.last_modified)


def _response(name: str) -> etree._Element:
    return etree.Element(q(name), nsmap={None: NS})


def to_xml(b: Beneficiary) -> etree._Element:
    """A ``Beneficiary`` element of its own (the benchmarks build answers with it)."""
    holder = _response("Beneficiary")
    _append(holder, b, b.documents)
    return holder[0]


def get_beneficiary(session: Session, call: Call) -> bytes:
    beneficiary = call.caller.load(session, Beneficiary, required_text(call.request, "BeneficiaryId"), "BeneficiaryId")
    if call.faults.beneficiary_answered_as:  # a test-only fault: another person's record
        beneficiary = session.get_one(Beneficiary, call.faults.beneficiary_answered_as)
    response = _response("GetBeneficiaryResponse")
    _append(response, beneficiary, beneficiary.documents)
    return serialise(response)


def find_beneficiaries(session: Session, call: Call) -> bytes:
    """One page, read as Core rows: the page's keys first, in the index's order (see :func:`_page_keys`),
    then their rows, then all their documents in one query."""
    request = call.request
    mission = text(request, "MissionCode")
    if mission is not None:
        call.caller.require(mission, "MissionCode")
    conditions: list[sa.ColumnElement[bool]] = [
        Beneficiary.mission_code.in_([mission] if mission else sorted(call.caller.missions))
    ]
    filters: dict[str, Callable[[str], sa.ColumnElement[bool]]] = {
        "FamilyName": lambda v: Beneficiary.family_name.istartswith(v, autoescape=True),
        "GivenName": lambda v: Beneficiary.given_name.istartswith(v, autoescape=True),
        "BirthDate": lambda v: Beneficiary.birth_date == parse_date(v, "BirthDate"),
        "Nationality": lambda v: Beneficiary.nationality == v,
        "DocumentNumber": lambda v: Beneficiary.documents.any(Document.number == v),
        "ModifiedSince": lambda v: Beneficiary.last_modified > parse_datetime(v, "ModifiedSince"),
    }
    for name, condition in filters.items():
        if (value := text(request, name)) is not None:
            conditions.append(condition(value))
    page, size = int(required_text(request, "Page")), int(required_text(request, "PageSize"))
    total = session.scalar(sa.select(sa.func.count()).select_from(_B).where(*conditions))
    keys = _page_keys(conditions, (page - 1) * size, size)
    rows = session.execute(
        sa.select(*_COLUMNS).join(keys, _B.c.beneficiary_id == keys.c.beneficiary_id).order_by(*ORDER)
    ).all()
    documents: dict[str, list[Any]] = {row.beneficiary_id: [] for row in rows}
    if documents:  # in the index's order: by beneficiary, then as they were saved
        papers = sa.select(*_DOCUMENT_COLUMNS).where(_D.c.beneficiary_id.in_(list(documents)))
        for document in session.execute(papers.order_by(_D.c.beneficiary_id, _D.c.id)).all():
            documents[document.beneficiary_id].append(document)
    response = _response("FindBeneficiariesResponse")
    _leaf(response, q("TotalCount"), str(total))
    _leaf(response, q("Page"), str(page))
    for row in rows:
        _append(response, row, documents[row.beneficiary_id])
    return serialise(response)


def _page_keys(conditions: list[sa.ColumnElement[bool]], skip: int, size: int) -> sa.Subquery:
    """The ids of one page: the page's rows are found by walking ``ix_beneficiary_mission_page``
    (mission, LastModified, BeneficiaryId) in order, reading the index alone when only the mission
    and ModifiedSince filter; the OFFSET skips index entries, not sorted rows, and only the page's
    own rows are read from the table."""
    return sa.select(_B.c.beneficiary_id).where(*conditions).order_by(*ORDER).offset(skip).limit(size).subquery("page")


@idempotent
def save_beneficiary(session: Session, call: Call) -> tuple[etree._Element, str]:
    data = required(call.request, "Beneficiary")
    mission = required_text(data, "MissionCode")
    call.caller.require(mission, "MissionCode")
    beneficiary_id, version = text(data, "BeneficiaryId"), text(data, "RecordVersion")
    if beneficiary_id is None:
        if version is not None:
            raise Fault("VALIDATION", "RecordVersion is only sent to update a beneficiary", ["RecordVersion"])
        beneficiary = Beneficiary(beneficiary_id=next_id(session, Beneficiary.beneficiary_id, "BEN"))
        session.add(beneficiary)
    else:
        beneficiary = call.caller.load(session, Beneficiary, beneficiary_id, "BeneficiaryId")
        if beneficiary.mission_code != mission:
            raise Fault("VALIDATION", "A beneficiary cannot change mission", ["MissionCode"])
        if version is None:
            raise Fault("VALIDATION", "RecordVersion is required to update a beneficiary", ["RecordVersion"])
        if int(version) != beneficiary.record_version:
            raise Fault("CONFLICT", "The beneficiary has changed since this RecordVersion", ["RecordVersion"])
    with session.no_autoflush:  # one UPDATE, so RecordVersion goes up by one
        _fill(beneficiary, data, call)
    try:
        session.flush()  # the version column makes a concurrent update fail here
    except StaleDataError:
        raise Fault("CONFLICT", "The beneficiary has changed since this RecordVersion", ["RecordVersion"]) from None
    response = E.SaveBeneficiaryResponse(
        E.BeneficiaryId(beneficiary.beneficiary_id), E.RecordVersion(str(beneficiary.record_version))
    )
    return response, beneficiary.beneficiary_id


def _fill(b: Beneficiary, data: etree._Element, call: Call) -> None:
    name, birth = required(data, "Name"), find(data, "BirthDate")
    b.mission_code = required_text(data, "MissionCode")
    b.family_name, b.given_name = required_text(name, "FamilyName"), required_text(name, "GivenName")
    b.middle_name = text(name, "MiddleName")
    b.sex = required_text(data, "Sex")
    b.birth_date = None if birth is None else parse_date(birth.text or "", "BirthDate")
    b.birth_date_estimated = birth is not None and parse_bool(birth.get("estimated", "false"))
    b.nationality = text(data, "Nationality")
    b.documents = [
        Document(
            type=d.get("type"),
            number=d.get("number"),
            issuing_country=d.get("issuingCountry"),
            expires=parse_date(d.get("expires", ""), "Document") if d.get("expires") else None,
        )
        for d in children(find(data, "Documents"), "Document")
    ]
    b.languages = [el.text or "" for el in children(find(data, "Languages"), "Language")]
    b.vulnerabilities = [el.text or "" for el in children(find(data, "Vulnerabilities"), "Code")]
    b.project_code = text(data, "ProjectCode")
    b.last_modified = call.now


OPERATIONS = {
    "GetBeneficiary": get_beneficiary,
    "FindBeneficiaries": find_beneficiaries,
    "SaveBeneficiary": save_beneficiary,
}
