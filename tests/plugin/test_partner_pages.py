"""Partners as their users meet them: the mission administrator's list and partner page (a credential's secret
shown once, suspension at once, the agreement drafted), HQ's approvals, the menus. SQLite, and PostgreSQL when
configured."""

from __future__ import annotations

import re

from page_parts import error_on, text
from test_partners import SHELTER, agreement_form, lookup
from world import World

from ctm_plugin.domain.partners import APPROVED, Credential, Partner, SharingAgreement

PARTNERS = "/m/THA/plugins/ctm/partners"
APPROVALS = "/m/THA/plugins/ctm/agreements/approvals"


def test_added_given_a_credential_shown_once_suspended_and_its_agreement_approved(w: World, login) -> None:  # noqa: ANN001
    admin = login("admin")
    assert "This mission has no partner yet." in text(admin.get(PARTNERS))
    refused = admin.post(PARTNERS, {**SHELTER, "kind": ""})
    assert refused.status_code == 422 and error_on(text(refused), "partner", "kind")
    assert w.all(Partner) == []
    added = admin.post(PARTNERS, SHELTER)
    assert added.status_code == 303
    [partner] = w.all(Partner)
    page = f"{PARTNERS}/{partner.id}"
    assert added.headers["Location"].endswith(page)
    assert "Safe Harbour Shelter" in text(admin.get(PARTNERS))

    issued = admin.post(f"{page}/credentials", {})
    body = text(issued)
    assert issued.status_code == 200 and issued.headers["Cache-Control"] == "no-store"
    username = re.search(r'<code data-value="username">([^<]+)</code>', body).group(1)  # type: ignore[union-attr]
    secret = re.search(r'<code data-value="secret">([^<]+)</code>', body).group(1)  # type: ignore[union-attr]
    assert lookup(w, username).secrets == (secret,)  # type: ignore[union-attr]
    again = text(admin.get(page))
    assert f'data-credential="{username}" data-state="valid"' in again and secret not in again  # once only

    suspended = admin.post(f"{page}/status", {"action": "suspend", "version": str(w.one(Partner).version)})
    assert suspended.status_code == 303 and lookup(w, username).partner_status == "suspended"  # type: ignore[union-attr]
    stale = admin.post(f"{page}/status", {"action": "resume", "version": "1"})
    assert stale.status_code == 409 and "Someone else changed this partner meanwhile" in text(stale)

    credential = w.one(Credential, username=username)
    assert admin.post(f"{page}/credentials/{credential.id}/retire", {}).status_code == 303
    assert lookup(w, username) is None and f'data-credential="{username}" data-state="retired"' in text(admin.get(page))

    assert 'data-form="agreement"' in text(admin.get(f"{page}/agreement"))
    bad = admin.post(f"{page}/agreement", agreement_form(consent_ReferralAssistance=""))
    assert bad.status_code == 422 and error_on(text(bad), "agreement", "consent_ReferralAssistance")
    assert w.all(SharingAgreement) == []
    assert admin.post(f"{page}/agreement", agreement_form()).status_code == 303
    [draft] = w.all(SharingAgreement)
    assert 'data-agreement="1" data-state="draft"' in text(admin.get(page))
    assert "Edit the draft" in text(admin.get(page))

    hq = login("hq")
    approvals = text(hq.get(APPROVALS))
    assert f'data-agreement="THA-{draft.id}"' in approvals and "Safe Harbour Shelter" in approvals
    assert "Referral for assistance" in approvals and "Follow-up report" in approvals
    assert hq.post(f"{APPROVALS}/THA/{draft.id}/approve", {}).status_code == 303
    assert w.one(SharingAgreement).status == APPROVED
    assert "No sharing agreement awaits approval." in text(hq.get(APPROVALS))
    late = hq.post(f"{APPROVALS}/THA/{draft.id}/approve", {})
    assert late.status_code == 409 and "not a draft any more" in text(late)
    assert 'data-agreement="1" data-state="approved"' in text(admin.get(page))

    handing_over = {"fields_HandOver": ["person.sex"], "consent_HandOver": "HandOver"}
    handing_over |= {"fields_ReferralAssistance": [], "fields_FollowUp": []}
    assert admin.post(f"{page}/agreement", agreement_form(purposes=["HandOver"], **handing_over)).status_code == 303
    beside = text(hq.get(APPROVALS))  # version 2 beside version 1, approved: what changes
    drafted, approved = beside.split("Version 1", 1)
    assert 'data-purpose="HandOver"' in drafted and 'data-purpose="ReferralAssistance"' not in drafted
    assert 'data-purpose="ReferralAssistance"' in approved and 'data-purpose="HandOver"' not in approved


def test_the_menus_offer_each_side_its_page_and_no_one_else(w: World, login) -> None:  # noqa: ANN001
    admin = text(login("admin").get(PARTNERS))
    assert "Sharing agreements to approve" not in admin
    hq = login("hq")
    assert "Sharing agreements to approve" in text(hq.get(APPROVALS))
    assert hq.get(PARTNERS).status_code == 404
    caseworker = login("caseworker")
    assert caseworker.get(PARTNERS).status_code == 404 and caseworker.get(APPROVALS).status_code == 404


def test_another_missions_partner_is_not_found(w: World, login) -> None:  # noqa: ANN001
    from ctm_plugin.services import partners

    khm = partners.add_partner(w.request_ctx("admin", "KHM"), SHELTER)
    admin = login("admin")
    assert admin.get(f"{PARTNERS}/{khm}").status_code == 404
    assert admin.get(f"{PARTNERS}/{khm}/agreement").status_code == 404
    admin.get(PARTNERS)
    assert admin.post(f"{PARTNERS}/{khm}/credentials", {}).status_code == 404
    assert w.all(Credential) == []


def test_two_first_drafts_at_once_the_second_is_told_to_reload_and_saves_nothing(  # noqa: ANN001
    w: World, login, monkeypatch
) -> None:
    from ctm_plugin.services import partners

    partner_id = partners.add_partner(w.request_ctx("admin"), SHELTER)
    page = f"{PARTNERS}/{partner_id}"
    admin = login("admin")
    admin.get(f"{page}/agreement")  # the form's token
    now, theirs = partners.utcnow, []

    def another_draft_meanwhile():  # noqa: ANN202 - between this draft's version and its saving
        monkeypatch.setattr(partners, "utcnow", now)  # once
        theirs.append(partners.draft_agreement(w.request_ctx("admin"), partner_id, agreement_form()))
        return now()

    monkeypatch.setattr(partners, "utcnow", another_draft_meanwhile)
    refused = admin.post(f"{page}/agreement", agreement_form(consent_FollowUp="Referral"))
    assert refused.status_code == 409
    assert "Someone else drafted an agreement with this partner meanwhile: nothing was saved." in text(refused)
    [draft] = w.all(SharingAgreement, partner_id=partner_id)
    assert (theirs, draft.version, draft.document["purposes"]["FollowUp"]["consent"]) == ([1], 1, "Services")
