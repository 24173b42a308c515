"""BeneficiaryService: GetBeneficiary, FindBeneficiaries, SaveBeneficiary.

FindBeneficiaries matches FamilyName and GivenName case-insensitively by prefix ("ka" finds
"Kaew"; on SQLite only ASCII letters fold), BirthDate, Nationality and DocumentNumber exactly,
and ModifiedSince as LastModified strictly after it. Results come ordered by LastModified,
then BeneficiaryId, so that paging is stable and a client can follow changes by
ModifiedSince. A save replaces the whole record and raises RecordVersion by one.
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from lxml import etree
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.orm.exc import StaleDataError

from ..models import Beneficiary, Document
from .call import Call
from .envelope import Fault
from .idempotency import idempotent
from .ids import next_id
from .messages import (
    E,
    children,
    find,
    fmt_bool,
    fmt_datetime,
    optional,
    parse_bool,
    parse_date,
    parse_datetime,
    required,
    required_text,
    serialise,
    text,
)


def to_xml(b: Beneficiary) -> etree._Element:
    birth = [E.BirthDate(b.birth_date.isoformat(), estimated=fmt_bool(b.birth_date_estimated))] if b.birth_date else []
    documents = [
        E.Document(
            {"type": d.type, "number": d.number, "issuingCountry": d.issuing_country}
            | ({"expires": d.expires.isoformat()} if d.expires else {})
        )
        for d in b.documents
    ]
    return E.Beneficiary(
        E.BeneficiaryId(b.beneficiary_id),
        E.MissionCode(b.mission_code),
        E.Name(E.FamilyName(b.family_name), E.GivenName(b.given_name), *optional("MiddleName", b.middle_name)),
        E.Sex(b.sex),
        *birth,
        *optional("Nationality", b.nationality),
        E.Documents(*documents),
        E.Languages(*(E.Language(code) for code in b.languages)),
        E.Vulnerabilities(*(E.Code(code) for code in b.vulnerabilities)),
        *optional("ProjectCode", b.project_code),
        E.RecordVersion(str(b.record_version)),
        E.LastModified(fmt_datetime(b.last_modified)),
    )


def get_beneficiary(session: Session, call: Call) -> bytes:
    beneficiary = call.caller.load(session, Beneficiary, required_text(call.request, "BeneficiaryId"), "BeneficiaryId")
    if call.faults.beneficiary_answered_as:  # a test-only fault: another person's record
        beneficiary = session.get_one(Beneficiary, call.faults.beneficiary_answered_as)
    return serialise(E.GetBeneficiaryResponse(to_xml(beneficiary)))


def find_beneficiaries(session: Session, call: Call) -> bytes:
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
    total = session.scalar(sa.select(sa.func.count()).select_from(Beneficiary).where(*conditions))
    found = session.scalars(
        sa.select(Beneficiary)
        .where(*conditions)
        .options(selectinload(Beneficiary.documents))
        .order_by(Beneficiary.last_modified, Beneficiary.beneficiary_id)
        .offset((page - 1) * size)
        .limit(size)
    )
    return serialise(E.FindBeneficiariesResponse(E.TotalCount(str(total)), E.Page(str(page)), *map(to_xml, found)))


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
