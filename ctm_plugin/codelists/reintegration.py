"""Code lists of reintegration and of the global emergency fund.

The plan's elements follow the seed project and IOM's reintegration practice; the risk indicators
of re-trafficking are those monitoring visits look for (IOM's reintegration handbook, ILO's
indicators of forced labour).
"""

from __future__ import annotations

from ctm_plugin.i18n import N_

from . import labelled

PLAN_ELEMENT = labelled(
    "plan_element",
    [
        ("Medical", N_("Medical care")),
        ("Psychological", N_("Psychological support")),
        ("SecurityProtection", N_("Security protection")),
        ("Legal", N_("Legal assistance")),
        ("Education", N_("Education")),
        ("VocationalTraining", N_("Vocational training")),
        ("JobReferral", N_("Job referral")),
        ("SubsidizedEmployment", N_("Subsidized employment")),
        ("SelfEmployment", N_("Self-employment or micro-enterprise")),
        ("MicroCredit", N_("Micro-credit")),
        ("Housing", N_("Housing")),
        ("FamilyMediation", N_("Family mediation")),
        ("Other", N_("Other")),
    ],
)

ELEMENT_STATUS = labelled(
    "element_status",
    [
        ("Planned", N_("Planned")),
        ("UnderWay", N_("Under way")),
        ("Completed", N_("Completed")),
        ("Cancelled", N_("Cancelled")),
    ],
)

PROVIDER_KIND = labelled(
    "provider_kind",
    [
        ("NGO", N_("NGO")),
        ("Government", N_("Government service")),
        ("IOM", N_("IOM")),
        ("Other", N_("Other organisation")),
    ],
)

PAYMENT_METHOD = labelled(
    "payment_method",
    [
        ("Cash", N_("Cash")),
        ("BankTransfer", N_("Bank transfer")),
        ("MobileMoney", N_("Mobile money")),
        ("InKind", N_("In kind (goods or services paid to the provider)")),
        ("Voucher", N_("Voucher")),
    ],
)

VISIT_MODE = labelled(
    "visit_mode",
    [
        ("InPerson", N_("In person")),
        ("Phone", N_("By phone")),
        ("Partner", N_("By a partner organisation")),
    ],
)

RETRAFFICKING_RISK = labelled(
    "retrafficking_risk",
    [
        ("NoIncome", N_("No stable income")),
        ("Debt", N_("Debt to a recruiter, lender or employer")),
        ("TraffickerContact", N_("Contacted by former traffickers or recruiters")),
        ("Threats", N_("Threats against the person or the family")),
        ("RemigrationPlans", N_("Plans to migrate again through an irregular channel")),
        ("FamilyRejection", N_("Rejected or stigmatised by family or community")),
        ("UnsafeHousing", N_("Unsafe or no housing")),
        ("UntreatedHealth", N_("Health problem left untreated")),
        ("SubstanceUse", N_("Harmful use of alcohol or drugs")),
        ("OutOfSchool", N_("A child out of school")),
        ("Unreachable", N_("Could not be reached or has moved without notice")),
    ],
)

EMERGENCY_KIND = labelled(
    "emergency_kind",
    [
        ("Protection", N_("Ad hoc protection")),
        ("Return", N_("Return")),
        ("Medical", N_("Medical")),
    ],
)
