"""Sharing agreements as data: the drafting form loads as the stored document, which its own schema accepts; a
document with anything beyond the purposes, fields and consents the CTM knows is refused."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from marshmallow import ValidationError

from ctm_plugin.domain.partners import PURPOSES, SHAREABLE_FIELDS
from ctm_plugin.schemas.partners import FIELD, PURPOSE, AgreementDocumentSchema, AgreementFormSchema

FORM = {
    "valid_from": "2026-01-01",
    "valid_until": "2026-12-31",
    "purposes": ["HandOver"],
    "fields_HandOver": ["person.sex", "person.birth_date", "person.sex"],
    "consent_HandOver": "HandOver",
}


def test_the_form_loads_as_a_document_its_schema_accepts() -> None:
    loaded = AgreementFormSchema().load(FORM)
    document = {"purposes": {"HandOver": {"fields": ["person.birth_date", "person.sex"], "consent": "HandOver"}}}
    assert loaded == {"valid_from": date(2026, 1, 1), "valid_until": date(2026, 12, 31), "document": document}
    terms = AgreementDocumentSchema().load(document)["purposes"]["HandOver"]
    assert terms == {"allowed": ["person.birth_date", "person.sex"], "consent": "HandOver"}


@pytest.mark.parametrize(
    "document",
    [
        {},
        {"purposes": {}},
        {"purposes": {"Gossip": {"fields": ["person.sex"], "consent": "Referral"}}},
        {"purposes": {"HandOver": {"fields": [], "consent": "HandOver"}}},
        {"purposes": {"HandOver": {"fields": ["person.passport"], "consent": "HandOver"}}},
        {"purposes": {"HandOver": {"fields": ["person.sex"], "consent": "Marketing"}}},
        {"purposes": {"HandOver": {"fields": ["person.sex"], "consent": "HandOver", "extra": 1}}},
        {"purposes": {"HandOver": {"fields": ["person.sex"], "consent": "HandOver"}}, "version": 2},
    ],
)
def test_a_document_beyond_what_the_ctm_knows_is_refused(document: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        AgreementDocumentSchema().load(document)


def test_every_purpose_and_shareable_field_has_its_label() -> None:
    assert PURPOSE.values == PURPOSES and FIELD.values == tuple(SHAREABLE_FIELDS)
