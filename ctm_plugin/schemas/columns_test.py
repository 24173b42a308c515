"""Every form field that lands in a column is bounded as that column is.

SQLite stores an over-long text as it comes; PostgreSQL refuses it, and an integer beyond 32 bits,
with an error the form never saw. So each schema's limits are compared with the model's columns:
a text no longer than its ``String(n)``, a whole number within an ``Integer``, a number that is finite.
"""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from marshmallow import Schema, fields, validate

from ctm_plugin.domain.assistance import AssistanceService, Consent, Referral
from ctm_plugin.domain.case import Case, CaseClosure, PersonProfile, VictimContext
from ctm_plugin.domain.fund import Fund, FundEntry, FundRequest
from ctm_plugin.domain.handover import Handover, ReceptionTask
from ctm_plugin.domain.models import MissionActivation
from ctm_plugin.domain.monitoring import MonitoringStart, MonitoringVisit
from ctm_plugin.domain.partners import Partner, SharingAgreement
from ctm_plugin.domain.preparation import ReturnPreparation
from ctm_plugin.domain.process import Perpetrator, TraffickingEvent
from ctm_plugin.domain.reintegration import Disbursement, LedgerEntry, PlanElement, ReintegrationPlan
from ctm_plugin.domain.returns import ReturnBooking
from ctm_plugin.domain.screening import Determination, Screening
from ctm_plugin.domain.sync import OutboxMessage
from ctm_plugin.schemas import (
    assistance,
    case,
    fund,
    handover,
    monitoring,
    partners,
    preparation,
    process,
    reintegration,
    returns,
    screening,
)
from ctm_plugin.schemas.mission_settings import MissionSettingsSchema

PROPOSED_INTO_RECORD = (
    "family_name",
    "given_name",
    "signs_of_minority",
    "medical_needs",
    "shelter_needs",
    "security_needs",
    "contact",
)
"""Fields of the proposal that go into the hand-over's record (JSON), bounded by the schema alone."""

INT32 = (-(2**31), 2**31 - 1)

# (schema, model, {field: column where the names differ}); ``version`` is compared, never stored.
STORED = [
    (assistance.ServiceSchema, AssistanceService, {}),
    (assistance.ConsentSchema, Consent, {}),
    (assistance.WithdrawConsentSchema, Consent, {"reason": "withdrawal_reason"}),
    (assistance.ReferralSchema, Referral, {}),
    (case.OpenCaseSchema, Case, {}),
    (case.PersonSchema, PersonProfile, {}),
    (case.VictimContextSchema, VictimContext, {}),
    (case.CloseCaseSchema, Case, {"reason": "status_reason", "confirmed": None}),  # confirmed: the page's step
    (case.CloseCaseSchema, CaseClosure, {"reason": "note", "close_reason": "reason", "confirmed": None}),
    (case.ClosureDecisionSchema, CaseClosure, {"decision": "state"}),
    (case.ReassignSchema, Case, {}),
    (case.ReassignAllSchema, Case, {"from_owner": "owner", "to_owner": "owner", "confirmed": None}),
    (case.ReopenCaseSchema, Case, {"reason": "status_reason"}),
    (screening.ScreeningSchema, Screening, {}),
    (screening.ScreeningCorrectionSchema, Screening, {"reason": "correction_reason"}),
    (screening.DeterminationSchema, Determination, {}),
    (process.EventSchema, TraffickingEvent, {}),
    (process.PerpetratorSchema, Perpetrator, {"event_ids": None}),
    (returns.ReturnBookingSchema, ReturnBooking, {}),
    (preparation.ChecklistSchema, ReturnPreparation, {}),
    (preparation.BestInterestsSchema, ReturnPreparation, {}),
    (preparation.RiskDecisionSchema, ReturnPreparation, {}),
    # The reason (one of the contract's five codes) travels in the cancellation's outbox payload (JSON).
    (returns.CancelReturnSchema, OutboxMessage, {"reason": None}),
    # Every setting lives only in the host's settings document (JSON).
    (MissionSettingsSchema, MissionActivation, dict.fromkeys(MissionSettingsSchema().fields)),
    (handover.ProposeHandoverSchema, Handover, {name: None for name in PROPOSED_INTO_RECORD}),
    (handover.AcceptHandoverSchema, Case, {}),
    (handover.DeclineHandoverSchema, Handover, {"reason": "decline_reason"}),
    (handover.ReceptionSchema, ReceptionTask, {}),
    (fund.FundRequestSchema, FundRequest, {}),
    (fund.TopUpSchema, FundEntry, {}),
    (fund.FundDecisionSchema, FundRequest, {"decision": "state", "amount": "approved_amount"}),
    (fund.FundCurrencySchema, Fund, {}),
    (fund.FundLimitSchema, Fund, {}),
    (monitoring.MonitoringStartSchema, MonitoringStart, {}),
    (monitoring.VisitSchema, MonitoringVisit, {}),
    (reintegration.AgreePlanSchema, ReintegrationPlan, {}),
    # The provider is one of the mission's (settings), split into provider_kind and provider_name.
    (reintegration.ElementSchema, PlanElement, {"provider": None}),
    (reintegration.DisbursementSchema, Disbursement, {}),
    # The decision lands in the state; the override flag in whether an override reason is kept.
    (reintegration.DisbursementDecisionSchema, Disbursement, {"decision": None, "override": None}),
    (reintegration.PaymentSchema, LedgerEntry, {}),
    (reintegration.ReversalSchema, LedgerEntry, {}),
    (reintegration.PeriodSchema, LedgerEntry, {"from_on": None, "to_on": None}),  # a report's period, not stored
    (partners.PartnerSchema, Partner, {}),
    (partners.PartnerEditSchema, Partner, {}),
    (partners.PartnerStatusSchema, Partner, {"action": "status"}),
    # The purposes, their fields and consents land in the agreement's document (JSON), validated again on reading.
    (
        partners.AgreementFormSchema,
        SharingAgreement,
        {name: None for name in partners.AgreementFormSchema().fields if name not in ("valid_from", "valid_until")},
    ),
]


def _column(model: type, name: str) -> sa.Column | None:
    columns = sa.inspect(model).columns  # a sealed field's column is mapped as ``<name>_sealed``
    return columns.get(name, columns.get(f"{name}_sealed"))


def longest_accepted(f: fields.Field, beyond: int) -> bool:
    """Whether ``f`` may accept a text longer than ``beyond``: some validator must rule it out."""
    for v in f.validators:
        if isinstance(v, validate.Length) and v.max is not None and v.max <= beyond:
            return False
        if isinstance(v, validate.OneOf) and all(len(str(c)) <= beyond for c in v.choices):
            return False
        if isinstance(v, validate.Regexp):
            longer = [c * (beyond + 1) for c in "A1a-"] + [c * beyond + "\n" for c in "A1a-"]  # ``$`` takes a "\n"
            if not any(re.match(v.regex, text) for text in longer):
                return False
    return True


def cases() -> list[tuple[str, fields.Field, sa.Column]]:
    found = []
    for schema, model, renamed in STORED:
        for name, f in schema().fields.items():
            if name == "version" or renamed.get(name, name) is None:
                continue
            column = _column(model, renamed.get(name, name))
            assert column is not None, f"{schema.__name__}.{name} lands in no column of {model.__name__}: say where"
            found.append((f"{schema.__name__}.{name}", f, column))
    return found


@pytest.mark.parametrize(("name", "f", "column"), cases(), ids=lambda value: value if isinstance(value, str) else "")
def test_each_field_is_bounded_as_its_column(name: str, f: fields.Field, column: sa.Column) -> None:
    kind = column.type
    if isinstance(kind, sa.String) and kind.length:
        assert not longest_accepted(f, kind.length), f"{name} may be longer than {column}'s {kind.length}"
    elif isinstance(kind, sa.Integer):
        ranges = [v for v in f.validators if isinstance(v, validate.Range)]
        assert ranges, f"{name} has no range, {column} holds 32 bits"
        assert INT32[0] <= ranges[0].min and ranges[0].max <= INT32[1], name
    elif isinstance(kind, sa.Float):
        assert isinstance(f, fields.Float) and not f.allow_nan, name
        assert any(isinstance(v, validate.Range) for v in f.validators), name
    elif isinstance(kind, sa.JSON):
        assert isinstance(f, fields.List), name
        assert any(isinstance(v, validate.ContainsOnly) for v in f.validators), f"{name}: any item would be stored"


def test_every_schema_field_of_a_form_is_checked() -> None:
    """A new form that stores rows comes into STORED deliberately."""
    checked = {schema for schema, _model, _renamed in STORED}
    forms = {
        obj
        for module in (assistance, case, monitoring, process, reintegration, returns, screening)
        for obj in vars(module).values()
        if isinstance(obj, type) and issubclass(obj, Schema) and obj.__module__ == module.__name__
    }
    assert forms <= checked, forms - checked


def test_the_check_itself_catches_a_field_longer_than_its_column() -> None:
    assert longest_accepted(fields.String(validate=validate.Length(max=121)), 120)
    assert longest_accepted(fields.String(), 40)
    assert longest_accepted(fields.String(validate=validate.OneOf(["x" * 41])), 40)
    assert longest_accepted(fields.String(validate=validate.Regexp(r"^[A-Z]{3}$")), 3)  # "ABC\n" matches
    assert not longest_accepted(fields.String(validate=validate.Regexp(r"^[A-Z]{3}\Z")), 3)
