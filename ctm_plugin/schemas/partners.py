"""Partners' forms (the organisation, its status) and sharing agreements: the drafting form, and the stored
document, which is validated again whenever it is read (a document is data, as the mappings are)."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, post_load, validate, validates_schema

from ctm_plugin.codelists import labelled
from ctm_plugin.codelists.process import CONSENT_PURPOSE
from ctm_plugin.domain import partners
from ctm_plugin.i18n import N_
from ctm_plugin.schemas.base import NOT_IN_LIST, FormSchema, code, codes, day, text, version

KIND = labelled(
    "partner_kind",
    [
        (partners.NGO, N_("Non-governmental organisation")),
        (partners.SHELTER, N_("Shelter")),
        (partners.GOVERNMENT, N_("Government")),
        (partners.LAW_ENFORCEMENT, N_("Law enforcement")),
        (partners.IOM_MISSION, N_("IOM mission on another host")),
    ],
)
STATUS = labelled("partner_status", [(partners.ACTIVE, N_("Active")), (partners.SUSPENDED, N_("Suspended"))])
PURPOSE = labelled(
    "agreement_purpose",
    [
        (partners.REFERRAL_ASSISTANCE, N_("Referral for assistance")),
        (partners.REFERRAL_LAW_ENFORCEMENT, N_("Referral to law enforcement")),
        (partners.HAND_OVER, N_("Hand-over")),
        (partners.FOLLOW_UP, N_("Follow-up report")),
    ],
)
AGREEMENT_STATE = labelled(
    "agreement_state",
    [
        (partners.DRAFT, N_("Draft: awaiting HQ's approval")),
        (partners.APPROVED, N_("Approved")),
        (partners.SUPERSEDED, N_("Superseded")),
    ],
)
FIELD = labelled("shareable_field", partners.SHAREABLE_FIELDS.items())
DIRECTION = labelled("exchange_direction", [(partners.INBOUND, N_("Received")), (partners.OUTBOUND, N_("Sent"))])
SUSPEND, RESUME = "suspend", "resume"

NO_PURPOSE = N_("Choose at least one purpose.")
NO_FIELD = N_("Choose at least one field for this purpose.")
NO_CONSENT = N_("Choose the consent this purpose needs.")
NOT_CHOSEN = N_("Tick the purpose to share these fields, or leave them empty.")


class PartnerSchema(FormSchema):
    """A partner's details (the mission administrator's); ``version`` when changing an existing one."""

    name = text(200, required=True)
    kind = code(KIND, required=True)
    contact = text(1000, required=True)


class PartnerEditSchema(PartnerSchema):
    version = version()


class PartnerStatusSchema(FormSchema):
    action = fields.String(required=True, validate=validate.OneOf((SUSPEND, RESUME), error=NOT_IN_LIST))
    version = version()


def fields_of(purpose: str) -> str:
    """The drafting form's field of a purpose's allow-list."""
    return f"fields_{purpose}"


def consent_of(purpose: str) -> str:
    """The drafting form's field of the consent a purpose needs."""
    return f"consent_{purpose}"


class _AgreementForm(FormSchema):
    """The drafting form: the validity dates, the purposes, and per purpose its fields and its consent; loads as
    ``{"valid_from", "valid_until", "document"}``."""

    valid_from = day(required=True, anytime=True)
    valid_until = day(required=True, anytime=True)
    purposes = codes(PURPOSE)

    @validates_schema
    def _each_purpose_complete(self, data: dict[str, Any], **_kwargs: Any) -> None:
        self.check_order(data, "valid_from", "valid_until")
        chosen = data.get("purposes") or []
        errors: dict[str, list[str]] = {} if chosen else {"purposes": [NO_PURPOSE]}
        for purpose in partners.PURPOSES:
            if purpose in chosen:
                if not data.get(fields_of(purpose)):
                    errors[fields_of(purpose)] = [NO_FIELD]
                if not data.get(consent_of(purpose)):
                    errors[consent_of(purpose)] = [NO_CONSENT]
            elif data.get(fields_of(purpose)):
                errors[fields_of(purpose)] = [NOT_CHOSEN]
        if errors:
            raise ValidationError(errors)

    @post_load
    def _as_document(self, data: dict[str, Any], **_kwargs: Any) -> dict[str, Any]:
        purposes = {
            purpose: {"fields": sorted(data[fields_of(purpose)]), "consent": data[consent_of(purpose)]}
            for purpose in partners.PURPOSES
            if purpose in data["purposes"]
        }
        return {
            "valid_from": data["valid_from"],
            "valid_until": data["valid_until"],
            "document": {"purposes": purposes},
        }


AgreementFormSchema: type[FormSchema] = type(
    "AgreementFormSchema",
    (_AgreementForm,),
    {
        **{fields_of(purpose): codes(FIELD) for purpose in partners.PURPOSES},
        **{consent_of(purpose): code(CONSENT_PURPOSE) for purpose in partners.PURPOSES},
    },
)


class _PurposeSchema(Schema):
    allowed = fields.List(
        fields.String(validate=validate.OneOf(tuple(partners.SHAREABLE_FIELDS))),
        required=True,
        validate=validate.Length(min=1),
        data_key="fields",  # ``fields`` is the schema's own attribute
    )
    consent = fields.String(required=True, validate=CONSENT_PURPOSE.validator())


class AgreementDocumentSchema(Schema):
    """A stored agreement's document: purposes of :data:`partners.PURPOSES`, each with a non-empty allow-list of
    :data:`partners.SHAREABLE_FIELDS` and a consent purpose the CTM has; nothing else."""

    purposes = fields.Dict(
        keys=fields.String(validate=validate.OneOf(partners.PURPOSES)),
        values=fields.Nested(_PurposeSchema),
        required=True,
        validate=validate.Length(min=1),
    )
