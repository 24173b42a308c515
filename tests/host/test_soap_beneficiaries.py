"""BeneficiaryService through a real zeep client over HTTP: reads, searches, saves, and its faults."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from mimosa_host.models import Beneficiary
from mimosa_host.soap.models import ClientRequest

SERVICE = "BeneficiaryService"


def new_person(**changes) -> dict:  # noqa: ANN003
    person = {
        "MissionCode": "THA",
        "Name": {"FamilyName": "Roe", "GivenName": "Jane"},
        "Sex": "F",
        "BirthDate": {"_value_1": "1990-04-01", "estimated": True},
        "Nationality": "MMR",
        "Documents": {"Document": [{"type": "PASSPORT", "number": "Z1234567", "issuingCountry": "MMR"}]},
        "Languages": {"Language": ["mya"]},
        "Vulnerabilities": {"Code": ["VOT"]},
        "ProjectCode": "THA-CT-01",
    }
    return person | changes


def count(rt, model) -> int:  # noqa: ANN001
    with rt.factory() as s:
        return s.scalar(sa.select(sa.func.count()).select_from(model))


@pytest.fixture
def beneficiaries(soap_client):  # noqa: ANN001, ANN201
    return soap_client(SERVICE).service


def test_get_beneficiary_answers_the_whole_record(beneficiaries) -> None:  # noqa: ANN001
    b = beneficiaries.GetBeneficiary(BeneficiaryId="BEN-1000001")
    assert (b.BeneficiaryId, b.MissionCode, b.RecordVersion) == ("BEN-1000001", "THA", 1)
    assert b.Documents.Document[0].type == "PASSPORT"
    assert b.LastModified.tzinfo is not None


def test_unknown_and_other_missions_records_are_faults(beneficiaries, soap_fault) -> None:  # noqa: ANN001
    assert soap_fault(beneficiaries.GetBeneficiary, BeneficiaryId="BEN-1999999") == (
        "soap:Client",
        "NOT_FOUND",
        ["BeneficiaryId"],
    )
    khm = ("soap:Client", "FORBIDDEN_MISSION", ["BeneficiaryId"])
    assert soap_fault(beneficiaries.GetBeneficiary, BeneficiaryId="BEN-2000001") == khm
    page = {"Page": 1, "PageSize": 10}
    assert soap_fault(beneficiaries.FindBeneficiaries, MissionCode="KHM", **page)[1] == "FORBIDDEN_MISSION"
    elsewhere = new_person(MissionCode="KHM")
    assert soap_fault(beneficiaries.SaveBeneficiary, Beneficiary=elsewhere, ClientReference="k1") == (
        "soap:Client",
        "FORBIDDEN_MISSION",
        ["MissionCode"],
    )


def test_find_searches_only_the_callers_missions_in_stable_pages(beneficiaries, live_host) -> None:  # noqa: ANN001
    with live_host.rt.factory() as s:
        tha = s.scalar(sa.select(sa.func.count()).where(Beneficiary.mission_code == "THA"))
    first = beneficiaries.FindBeneficiaries(Page=1, PageSize=25)
    second = beneficiaries.FindBeneficiaries(Page=2, PageSize=25)
    ids = [b.BeneficiaryId for b in first.Beneficiary + second.Beneficiary]
    assert first.TotalCount == tha == len(ids) == len(set(ids))
    assert all(i.startswith("BEN-1") for i in ids)
    stamps = [(b.LastModified, b.BeneficiaryId) for b in first.Beneficiary + second.Beneficiary]
    assert stamps == sorted(stamps)
    assert beneficiaries.FindBeneficiaries(Page=3, PageSize=25).Beneficiary == []


def test_find_filters(beneficiaries, live_host) -> None:  # noqa: ANN001
    with live_host.rt.factory() as s:
        target = s.get(Beneficiary, "BEN-1000007")
        family, given, number = target.family_name, target.given_name, target.documents[0].number
        birth, nationality = target.birth_date, target.nationality
    by_name = beneficiaries.FindBeneficiaries(
        FamilyName=family[:2].lower(), GivenName=given.upper(), Page=1, PageSize=500
    )
    assert "BEN-1000007" in {b.BeneficiaryId for b in by_name.Beneficiary}
    assert all(b.Name.FamilyName.lower().startswith(family[:2].lower()) for b in by_name.Beneficiary)
    by_document = beneficiaries.FindBeneficiaries(DocumentNumber=number, Page=1, PageSize=10)
    assert [b.BeneficiaryId for b in by_document.Beneficiary] == ["BEN-1000007"]
    exact = beneficiaries.FindBeneficiaries(BirthDate=birth, Nationality=nationality, Page=1, PageSize=10)
    assert "BEN-1000007" in {b.BeneficiaryId for b in exact.Beneficiary}
    assert beneficiaries.FindBeneficiaries(FamilyName="100%", Page=1, PageSize=10).TotalCount == 0

    latest = beneficiaries.FindBeneficiaries(Page=1, PageSize=500).Beneficiary[-1].LastModified
    assert beneficiaries.FindBeneficiaries(ModifiedSince=latest, Page=1, PageSize=10).TotalCount == 0
    saved = beneficiaries.SaveBeneficiary(Beneficiary=new_person(), ClientReference="ms-1")
    found = beneficiaries.FindBeneficiaries(ModifiedSince=latest, Page=1, PageSize=10)
    assert [b.BeneficiaryId for b in found.Beneficiary] == [saved.BeneficiaryId]


def test_save_creates_then_updates_with_the_current_record_version(beneficiaries, live_host, soap_fault) -> None:  # noqa: ANN001
    created = beneficiaries.SaveBeneficiary(Beneficiary=new_person(), ClientReference="c-1")
    assert created.BeneficiaryId.startswith("BEN-0") and created.RecordVersion == 1
    first = beneficiaries.GetBeneficiary(BeneficiaryId=created.BeneficiaryId)
    assert (first.Name.FamilyName, first.BirthDate.estimated, first.Languages.Language) == ("Roe", True, ["mya"])

    update = new_person(BeneficiaryId=created.BeneficiaryId, RecordVersion=1, Documents={"Document": []})
    update["Name"] = {"FamilyName": "Doe", "GivenName": "Jane"}
    updated = beneficiaries.SaveBeneficiary(Beneficiary=update, ClientReference="c-2")
    assert (updated.BeneficiaryId, updated.RecordVersion) == (created.BeneficiaryId, 2)
    second = beneficiaries.GetBeneficiary(BeneficiaryId=created.BeneficiaryId)
    assert (second.Name.FamilyName, second.Documents) == ("Doe", None)  # zeep reads <Documents/> as None
    assert second.LastModified > first.LastModified

    stale = update | {"Name": {"FamilyName": "Stale", "GivenName": "Jane"}}
    assert soap_fault(beneficiaries.SaveBeneficiary, Beneficiary=stale, ClientReference="c-3") == (
        "soap:Client",
        "CONFLICT",
        ["RecordVersion"],
    )
    after = beneficiaries.GetBeneficiary(BeneficiaryId=created.BeneficiaryId)
    assert (after.Name.FamilyName, after.RecordVersion) == ("Doe", 2)
    with live_host.rt.factory() as s:
        assert s.scalar(sa.select(sa.func.count()).where(ClientRequest.client_reference == "c-3")) == 0


def test_a_repeated_client_reference_returns_the_first_answer_and_changes_nothing(
    beneficiaries, live_host, soap_fault, soap_client
) -> None:  # noqa: ANN001
    before = count(live_host.rt, Beneficiary)
    first = beneficiaries.SaveBeneficiary(Beneficiary=new_person(), ClientReference="same")
    again = beneficiaries.SaveBeneficiary(Beneficiary=new_person(), ClientReference="same")
    assert (again.BeneficiaryId, again.RecordVersion) == (first.BeneficiaryId, first.RecordVersion)
    assert count(live_host.rt, Beneficiary) == before + 1
    other = new_person(Sex="M")
    assert soap_fault(beneficiaries.SaveBeneficiary, Beneficiary=other, ClientReference="same") == (
        "soap:Client",
        "DUPLICATE_REFERENCE",
        ["ClientReference"],
    )
    assert count(live_host.rt, Beneficiary) == before + 1
    assert count(live_host.rt, ClientRequest) == 1
    # A reference is the caller's own: another API user may use the same one.
    khm = soap_client(SERVICE, "KHM").service.SaveBeneficiary(
        Beneficiary=new_person(MissionCode="KHM"), ClientReference="same"
    )
    assert khm.BeneficiaryId != first.BeneficiaryId


def test_validation_faults_name_the_offending_elements(beneficiaries, soap_fault, live_host) -> None:  # noqa: ANN001
    before = count(live_host.rt, Beneficiary)
    bad = new_person(Sex="Q", Nationality="mm")
    bad["Documents"] = {"Document": [{"type": "PASSPORT", "number": "Z1", "issuingCountry": "??"}]}
    faultcode, code, fields = soap_fault(beneficiaries.SaveBeneficiary, Beneficiary=bad, ClientReference="v-1")
    assert (faultcode, code) == ("soap:Client", "VALIDATION")
    assert fields == ["Sex", "Nationality", "Document"]
    too_long = "x" * 65
    assert soap_fault(beneficiaries.SaveBeneficiary, Beneficiary=new_person(), ClientReference=too_long)[2] == [
        "ClientReference"
    ]
    assert soap_fault(beneficiaries.FindBeneficiaries, Page=1, PageSize=501)[1:] == ("VALIDATION", ["PageSize"])
    update_without_version = new_person(BeneficiaryId="BEN-1000001")
    assert soap_fault(beneficiaries.SaveBeneficiary, Beneficiary=update_without_version, ClientReference="v-2")[1:] == (
        "VALIDATION",
        ["RecordVersion"],
    )
    assert count(live_host.rt, Beneficiary) == before
