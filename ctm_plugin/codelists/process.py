"""The CTM's own code lists: what the brief needs and HTCDS does not define.

The trafficking process (events, dates, routes, exit), the Palermo Protocol screening (act and
means; the purposes are :data:`ctm_plugin.codelists.htcds.EXPLOITATION_TYPE`), the
determination, assistance services, consent and referrals.
"""

from __future__ import annotations

from ctm_plugin.i18n import N_

from . import labelled

# -- The trafficking process -----------------------------------------------------------------

EVENT_TYPE = labelled(
    "event_type",  # HTCDS hte_Type plus Exit
    [
        ("Recruitment", N_("Recruitment")),
        ("Transit", N_("Transit")),
        ("Exploitation", N_("Exploitation")),
        ("Exit", N_("Exit from trafficking")),
    ],
)

EXIT_MODE = labelled(
    "exit_mode",  # how the person left the situation or was identified
    [
        ("SelfEscape", N_("Escaped on their own")),
        ("Police", N_("Police intervention")),
        ("NGO", N_("NGO intervention")),
        ("Hotline", N_("Call to a hotline")),
        ("Other", N_("Other")),
    ],
)

DATE_PRECISION = labelled(
    "date_precision",  # how much of a recalled date is known
    [
        ("Day", N_("Exact day")),
        ("Month", N_("Month only")),
        ("Year", N_("Year only")),
        ("Unknown", N_("Unknown")),
    ],
)

TRANSPORT = labelled(
    "transport",
    [
        ("Air", N_("Plane")),
        ("Bus", N_("Bus or coach")),
        ("Car", N_("Car")),
        ("Train", N_("Train")),
        ("Boat", N_("Boat")),
        ("Truck", N_("Truck")),
        ("Motorcycle", N_("Motorcycle")),
        ("OnFoot", N_("On foot")),
        ("Other", N_("Other")),
        ("Unknown", N_("Unknown")),
    ],
)

DOCUMENTS_USED = labelled(
    "documents_used",  # the travel or identity documents the person travelled with
    [
        ("Own", N_("Own genuine documents")),
        ("Forged", N_("Forged or fraudulent documents")),
        ("None", N_("No documents")),
        ("Confiscated", N_("Documents confiscated")),
    ],
)

BORDER_CROSSING = labelled(
    "border_crossing",
    [
        ("Regular", N_("Regular crossing")),
        ("Irregular", N_("Irregular crossing")),
    ],
)

# -- Palermo Protocol, art. 3(a): act and means (the purpose is EXPLOITATION_TYPE) -----------

PALERMO_ACT = labelled(
    "palermo_act",
    [
        ("Recruitment", N_("Recruitment")),
        ("Transportation", N_("Transportation")),
        ("Transfer", N_("Transfer")),
        ("Harbouring", N_("Harbouring")),
        ("Receipt", N_("Receipt")),
    ],
)

PALERMO_MEANS = labelled(
    "palermo_means",
    [
        ("Threat", N_("Threat")),
        ("Force", N_("Use of force")),
        ("Coercion", N_("Other forms of coercion")),
        ("Abduction", N_("Abduction")),
        ("Fraud", N_("Fraud")),
        ("Deception", N_("Deception")),
        ("AbuseOfPowerOrVulnerability", N_("Abuse of power or of a position of vulnerability")),
        (
            "PaymentsToPersonInControl",
            N_("Payments or benefits to obtain the consent of a person having control over another"),
        ),
    ],
)

DETERMINATION = labelled(
    "determination",  # the CTM's own determination, recorded with its basis
    [
        ("VictimOfTrafficking", N_("Victim of trafficking")),
        ("NotAVictim", N_("Not a victim of trafficking")),
        ("Undetermined", N_("Undetermined")),
    ],
)

# -- Assistance ------------------------------------------------------------------------------

SERVICE_STATUS = labelled(
    "service_status",
    [
        ("Planned", N_("Planned")),
        ("Ongoing", N_("Under way")),
        ("Completed", N_("Completed")),
        ("Cancelled", N_("Cancelled")),
    ],
)

# -- Consent ---------------------------------------------------------------------------------

CONSENT_PURPOSE = labelled(
    "consent_purpose",  # what a consent covers (IOM data protection: specified purpose)
    [
        ("Services", N_("Provision of assistance")),
        ("Referral", N_("Referral to other organisations")),
        ("Return", N_("Voluntary return")),
        ("Research", N_("Research use of non-identifying data")),
        ("LawEnforcement", N_("Sharing with law enforcement")),
        ("HostSharing", N_("Sharing with the MiMOSA host")),
        ("HandOver", N_("Hand-over to the mission of origin")),
    ],
)

CONSENT_ITEM = labelled(
    "consent_item",  # the 7 questions of the HTCDS con_Consent guidance, as statements
    [
        ("ConsentedToInterview", N_("Consented or assented to the interview")),
        ("InformedOfPurpose", N_("Informed of the purpose of the interview")),
        ("InformedOfDataUses", N_("Informed of the actual and potential uses of the data")),
        ("InformedOfResearchUse", N_("Informed of the research use of non-identifying data")),
        ("InformedOfRightOfAccess", N_("Informed of the right to request their personal data")),
        ("InformedOfRetention", N_("Informed of how long the data will be stored")),
        ("InformedOfWithdrawal", N_("Informed of how to withdraw consent")),
    ],
)

CONSENT_METHOD = labelled(
    "consent_method",
    [
        ("Written", N_("Written")),
        ("Verbal", N_("Verbal")),
        ("Thumbprint", N_("Thumbprint")),
        ("Guardian", N_("Given by a parent or guardian")),
    ],
)

# -- Referrals -------------------------------------------------------------------------------

REFERRAL_STATUS = labelled(
    "referral_status",
    [
        ("sent", N_("Sent: awaiting an answer")),
        ("accepted", N_("Accepted")),
        ("declined", N_("Declined")),
        ("completed", N_("Completed")),
    ],
)
"""Where an outgoing referral stands: the organisation's answer, then the service given."""
REFERRAL_ANSWER = labelled("referral_answer", [(c.value, c.label) for c in REFERRAL_STATUS.codes if c.value != "sent"])
"""The answers a referral may get: its statuses after ``sent``."""

REFERRAL_DIRECTION = labelled(
    "referral_direction",
    [
        ("Incoming", N_("Incoming referral")),
        ("Outgoing", N_("Outgoing referral")),
    ],
)
