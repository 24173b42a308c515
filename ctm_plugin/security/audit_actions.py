"""What the audit trail's codes mean to an auditor: every action code the CTM records, and every
field group, with an English msgid as its label (shown in the reader's language).

One table, so that a code recorded anywhere reads as words; a test checks that every literal
code passed to ``audit.record`` (and to its helpers) is here. A code from a newer release that
is not yet here is shown as the code itself, never hidden.
"""

from __future__ import annotations

from ctm_plugin import i18n
from ctm_plugin.i18n import N_

_OUTBOX_STATUSES = {
    "pending": N_("Message to the host: to be sent again"),
    "unknown": N_("Message to the host: outcome unknown"),
    "done": N_("Message to the host: done"),
    "failed": N_("Message to the host: refused"),
    "dead": N_("Message to the host: given up"),
}
_CANCEL_STATUSES = {
    "done": N_("Return cancelled with the host"),
    "failed": N_("Return cancellation refused by the host"),
    "dead": N_("Return cancellation given up"),
    "discarded": N_("Return cancellation discarded"),
}

ACTIONS: dict[str, str] = {
    # the case
    "case.view": N_("Viewed the case"),
    "case.open": N_("Opened the case"),
    "case.person.edit": N_("Changed the person"),
    "case.victim.edit": N_("Changed the victim context"),
    "case.close": N_("Closed the case"),
    "case.reopen": N_("Reopened the case"),
    "case.print": N_("Printed the case summary"),
    "case.close.request": N_("Asked to close the case"),
    "case.close.approve": N_("Approved closing the case"),
    "case.close.refuse": N_("Refused closing the case"),
    "case.reassign": N_("Reassigned the case"),
    "cases.owners.view": N_("Viewed the owners of open cases"),
    "cases.list": N_("Listed the mission's cases"),
    "cases.queue": N_("Viewed the cases awaiting a determination"),
    "follow_up.add": N_("Added a follow-up"),
    "follow_up.done": N_("Marked a follow-up done"),
    "due.view": N_("Viewed what is due"),
    # screening and the person's story
    "screening.record": N_("Recorded a screening"),
    "screening.determine": N_("Recorded a determination"),
    "screening.correct": N_("Corrected a screening"),
    "screening.candidates.view": N_("Viewed the people to screen"),
    "screening.candidate.dismiss": N_("Dismissed a person to screen"),
    "perpetrator.edit": N_("Corrected a perpetrator"),
    "referral.answer": N_("Recorded a referral's answer"),
    "event.add": N_("Added an event to the process"),
    "event.edit": N_("Changed an event of the process"),
    "perpetrator.add": N_("Added a perpetrator"),
    # assistance, consent, referrals
    "service.add": N_("Added a service"),
    "service.edit": N_("Corrected a service"),
    "consent.record": N_("Recorded a consent"),
    "consent.withdraw": N_("Withdrew a consent"),
    "referral.add": N_("Added a referral"),
    # the return
    "return.prepare": N_("Changed the return checklist"),
    "return.best_interests": N_("Recorded a best-interests determination"),
    "return.risk_decision": N_("Decided on a high-risk return"),
    "return.book": N_("Requested a return booking"),
    "return.status": N_("Return status from the host"),
    "return.cancel": N_("Asked to cancel the return"),
    **{f"return.cancel.{status}": label for status, label in _CANCEL_STATUSES.items()},
    # hand-overs and reception
    "handover.propose": N_("Proposed a hand-over"),
    "handover.inbox.view": N_("Viewed the hand-overs"),
    "handover.view": N_("Viewed a hand-over"),
    "handover.accept": N_("Accepted a hand-over"),
    "handover.decline": N_("Declined a hand-over"),
    "handover.arrival": N_("Recorded an arrival"),
    "reception.open": N_("Opened the reception tasks"),
    "reception.record": N_("Recorded a reception task"),
    # reintegration, disbursements, the emergency fund
    "plan.agree": N_("Agreed the reintegration plan"),
    "plan.element.add": N_("Added a plan element"),
    "plan.element.change": N_("Changed a plan element"),
    "disbursement.request": N_("Requested a disbursement"),
    "disbursement.reject": N_("Rejected a disbursement"),
    "disbursement.approve": N_("Approved a disbursement"),
    "disbursement.pay": N_("Recorded a payment"),
    "disbursement.fund_approval": N_("Emergency fund approval entered in the ledger"),
    "disbursement.pending.view": N_("Viewed the disbursements to approve"),
    "ledger.reverse": N_("Reversed a ledger entry"),
    "ledger.report.view": N_("Viewed the donors' report"),
    "ledger.report.export": N_("Exported the donors' report"),
    "ledger.projects.view": N_("Viewed the projects' ledger"),
    "fund.request": N_("Requested emergency-fund assistance"),
    "fund.requests.view": N_("Viewed the emergency-fund requests"),
    "fund.request.view": N_("Viewed an emergency-fund request"),
    "fund.request.approved": N_("Approved an emergency-fund request"),
    "fund.request.rejected": N_("Rejected an emergency-fund request"),
    "fund.view": N_("Viewed the emergency fund"),
    "fund.top_up": N_("Topped up the emergency fund"),
    "fund.currency": N_("Changed the emergency fund's currency"),
    "fund.max_request": N_("Changed the emergency fund's largest request"),
    # trends
    "trends.view": N_("Viewed the trends (suppressed counts, no case)"),
    # research exports
    "research.export.request": N_("Requested a research export"),
    "research.exports.view": N_("Viewed the research export requests"),
    "research.export.approved": N_("Approved a research export"),
    "research.export.declined": N_("Declined a research export"),
    "research.export.read": N_("Read the mission's consenting cases for a research export"),
    "research.export.download": N_("Downloaded a research export"),
    # re-trafficking
    "retrafficking.view": N_("Viewed the re-trafficking matches"),
    "retrafficking.confirmed": N_("Confirmed a re-trafficking match"),
    "retrafficking.dismissed": N_("Dismissed a re-trafficking match"),
    "retrafficking.flag.view": N_("Viewed a case's re-trafficking flag"),
    "retrafficking.match.read": N_("Read the mission's people for the re-trafficking matching"),
    # intelligence
    "intelligence.view": N_("Viewed the intelligence links (the mission's cases read)"),
    "intelligence.network.view": N_("Viewed the intelligence network (the mission's cases read)"),
    "intelligence.package": N_("Produced a law-enforcement referral package"),
    "intelligence.package.download": N_("Downloaded a law-enforcement referral package"),
    # partners
    "partners.view": N_("Viewed the mission's partners"),
    "partner.view": N_("Viewed a partner (credentials, agreements, exchanges)"),
    "partner.add": N_("Added a partner"),
    "partner.edit": N_("Changed a partner's details"),
    "partner.suspend": N_("Suspended a partner"),
    "partner.resume": N_("Resumed a suspended partner"),
    "partner.credential.issue": N_("Issued a partner credential"),
    "partner.credential.retire": N_("Retired a partner credential"),
    "agreement.draft": N_("Drafted a sharing agreement"),
    "agreements.view": N_("Viewed the sharing agreements to approve"),
    "agreement.approve": N_("Approved a sharing agreement"),
    "partner.exchange": N_("Exchanged with a partner"),
    "referral.inbox.view": N_("Viewed the referrals from partners"),
    "referral.view": N_("Viewed a partner's referral"),
    "referral.accept": N_("Accepted a partner's referral into a case"),
    "referral.decline": N_("Declined a partner's referral"),
    # monitoring
    "monitoring.start": N_("Started monitoring"),
    "monitoring.visit": N_("Recorded a monitoring visit"),
    "monitoring.alerts": N_("Viewed the monitoring alerts"),
    "scoring_model.save": N_("Changed the scoring model"),
    # the host
    "host.search": N_("Searched the host's records"),
    "host.import": N_("Imported a person from the host"),
    "host.link": N_("Linked the case to the host's record"),
    "host.refresh": N_("Refreshed from the host"),
    "host.pull": N_("Pulled changes from the host"),
    "host.register": N_("Registered the person in the host"),
    "host.push": N_("Sent the case to the host"),
    "mapping.override": N_("Changed a mapping"),
    "outbox.view": N_("Viewed the synchronisation"),
    "outbox.retry": N_("Retried a message to the host"),
    "outbox.discard": N_("Discarded a message to the host"),
    "outbox.adopt": N_("Took the host's record for a message"),
    **{f"outbox.{status}": label for status, label in _OUTBOX_STATUSES.items()},
    # the audit trail itself
    "audit.view": N_("Viewed the audit trail"),
    "audit.export": N_("Exported the audit trail"),
    "retention.purge": N_("Purged records past their retention (counts per class)"),
    "audit.verify": N_("Verified the audit chain"),
    "keys.rotate": N_("Rotated the mission's key (values re-sealed per table)"),
    "keys.rotate-index": N_("Recomputed the mission's document-number indexes under HQ's new index key"),
    "keys.erase": N_("Erased the mission's keys: its sealed records cannot be decrypted any more"),
}

FIELD_GROUPS: dict[str, str] = {
    "trends": N_("Trends"),
    "trends:year": N_("Trends by year"),  # the filter asked (services/trends.py)
    "trends:quarter": N_("Trends by quarter"),
    "case": N_("Case"),
    "person": N_("Person"),
    "identity": N_("Identity"),
    "victim": N_("Victim context"),
    "screening": N_("Screening"),
    "determination": N_("Determination"),
    "process": N_("Process"),
    "perpetrators": N_("Perpetrators"),
    "assistance": N_("Assistance"),
    "consent": N_("Consent"),
    "referrals": N_("Referrals"),
    "return": N_("Return"),
    "handover": N_("Hand-over"),
    "reception": N_("Reception"),
    "reintegration": N_("Reintegration"),
    "monitoring": N_("Monitoring"),
    "fund": N_("Emergency fund"),
    "research": N_("Research exports"),
    "retrafficking": N_("Re-trafficking"),
    "intelligence": N_("Intelligence"),
    "partners": N_("Partners"),
    "sync": N_("Synchronisation"),
    "audit": N_("Audit trail"),
}


def action_label(code: str) -> str:
    """The action in the reader's language; an unknown code as itself."""
    return i18n._(ACTIONS[code]) if code in ACTIONS else code


def group_label(code: str) -> str:
    return i18n._(FIELD_GROUPS[code]) if code in FIELD_GROUPS else code


def action_choices() -> list[tuple[str, str]]:
    """The actions for a filter's select, by their label in the reader's language."""
    return sorted(((code, action_label(code)) for code in ACTIONS), key=lambda pair: pair[1].casefold())
