"""The hand-over forms: proposing one (destination mission), deciding on it and recording the
reception (mission of origin). Each bounded as the columns and the record it fills."""

from __future__ import annotations

from marshmallow import fields, validate

from ctm_plugin.i18n import N_

from .base import _BASIC, FormSchema, day, flag, text, version

NEED_LENGTH = 2000
NOT_A_MISSION = N_("Choose a mission from the list.")


class ProposeHandoverSchema(FormSchema):
    """What the proposing caseworker adds to what the case and its return already say.

    The names travel in the record only (the host holds them, the CTM's case does not); the
    needs on arrival are what the mission of origin must prepare for, nothing of the case's story.
    """

    version = version()
    to_mission = fields.String(
        required=True,
        validate=validate.Length(min=1, max=8, error=NOT_A_MISSION),
        error_messages={**_BASIC, "invalid": NOT_A_MISSION},
    )
    family_name = text(120, required=True)
    given_name = text(120, required=True)
    signs_of_minority = flag()
    medical_needs = text(NEED_LENGTH)
    shelter_needs = text(NEED_LENGTH)
    security_needs = text(NEED_LENGTH)
    contact = text(200, required=True)


class AcceptHandoverSchema(FormSchema):
    version = version()
    opened_on = day(required=True, after_birth=False)


class DeclineHandoverSchema(FormSchema):
    version = version()
    reason = text(NEED_LENGTH, required=True)


class ReceptionSchema(FormSchema):
    """The reception on arrival, as the receiving mission records it."""

    arrived_on = day(required=True, after_birth=False)
    arrival_place = text(120, required=True)
    received_by = text(120, required=True)
    immediate_needs = text(NEED_LENGTH)
    shelter_placement = text(NEED_LENGTH)
    family_contact = text(NEED_LENGTH)
