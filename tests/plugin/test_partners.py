"""Partners' use cases (issue 15): the mission administrator's partners, credentials and agreements, HQ's approval,
and the three functions the partner service reads (credential_for, agreement_in_force, record_exchange). SQLite,
and PostgreSQL when configured (there the credential lookup crosses missions through ctm0028's policy only)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from partner_rows import SHELTER
from test_emergency_fund import grant_role
from world import World

from ctm_plugin.domain.audit import AuditEvent
from ctm_plugin.domain.partners import (
    APPROVED,
    DRAFT,
    INBOUND,
    SUPERSEDED,
    SUSPENDED,
    Credential,
    Partner,
    PartnerExchange,
    SharingAgreement,
)
from ctm_plugin.domain.scope import mission_session
from ctm_plugin.services import partners
from ctm_plugin.services.base import Invalid, NotFound

TODAY = date.today()


def agreement_form(**changes: object) -> dict[str, object]:
    form: dict[str, object] = {
        "valid_from": (TODAY - timedelta(days=1)).isoformat(),
        "valid_until": (TODAY + timedelta(days=365)).isoformat(),
        "purposes": ["ReferralAssistance", "FollowUp"],
        "fields_ReferralAssistance": ["person.given_name", "referral.needs"],
        "consent_ReferralAssistance": "Referral",
        "fields_FollowUp": ["follow_up.status"],
        "consent_FollowUp": "Services",
    }
    return {**form, **changes}


def a_partner(w: World, mission: str = "THA") -> int:
    return partners.add_partner(w.request_ctx("admin", mission), SHELTER)


def approved_partner(w: World) -> int:
    partner_id = a_partner(w)
    partners.draft_agreement(w.request_ctx("admin"), partner_id, agreement_form())
    [draft] = w.all(SharingAgreement, partner_id=partner_id)
    partners.approve_agreement(w.request_ctx("hq"), "THA", draft.id)
    return partner_id


def lookup(w: World, username: str) -> partners.PartnerCredential | None:
    with w.rt.factory() as session, session.begin():  # a session of no mission, as the partner service's
        return partners.credential_for(session, username)


def test_a_partner_is_added_its_credential_issued_and_found_by_its_username_only_while_valid(w: World) -> None:
    partner_id = a_partner(w)
    ctx = w.request_ctx("admin")
    username, secret = partners.issue_credential(ctx, partner_id)
    assert username.startswith("ctm-tha-") and len(secret) >= 40
    stored = w.one(Credential, username=username)
    assert secret not in stored.secret_sealed and stored.secret == secret  # sealed at rest, opened by the ORM

    found = lookup(w, username)
    assert found == partners.PartnerCredential(partner_id, "THA", username, (secret,), "active")
    assert lookup(w, "ctm-tha-nobody") is None

    partners.retire_credential(ctx, partner_id, stored.id)
    assert lookup(w, username) is None
    with pytest.raises(partners.CredentialRetired):
        partners.retire_credential(ctx, partner_id, stored.id)
    actions = [e.action for e in w.all(AuditEvent) if e.action.startswith("partner")]
    assert actions == ["partner.add", "partner.credential.issue", "partner.credential.retire"]


def test_a_rotation_keeps_two_valid_credentials_and_no_third(w: World) -> None:
    partner_id = a_partner(w)
    ctx = w.request_ctx("admin")
    old, _ = partners.issue_credential(ctx, partner_id)
    new, _ = partners.issue_credential(ctx, partner_id)
    assert lookup(w, old) and lookup(w, new)  # the changeover: both accepted
    before = w.snapshot()
    with pytest.raises(partners.TooManyCredentials):
        partners.issue_credential(ctx, partner_id)
    assert w.snapshot() == before
    partners.retire_credential(ctx, partner_id, w.one(Credential, username=old).id)
    assert lookup(w, old) is None and lookup(w, new) is not None
    assert partners.issue_credential(ctx, partner_id)


def test_a_suspended_partner_is_known_as_suspended_at_once_and_resumed(w: World) -> None:
    partner_id = a_partner(w)
    ctx = w.request_ctx("admin")
    username, _ = partners.issue_credential(ctx, partner_id)
    version = w.one(Partner, id=partner_id).version
    assert partners.set_status(ctx, partner_id, {"action": "suspend", "version": str(version)}) == SUSPENDED
    found = lookup(w, username)
    assert found is not None and found.partner_status == SUSPENDED
    assert w.one(Partner, id=partner_id).suspended_at is not None
    with pytest.raises(partners.PartnerChanged):  # a stale page's second click
        partners.set_status(ctx, partner_id, {"action": "resume", "version": str(version)})
    partners.set_status(ctx, partner_id, {"action": "resume", "version": str(version + 1)})
    assert lookup(w, username).partner_status == "active"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"name": ""}, "name", "This field is required."),
        ({"kind": "Church"}, "kind", "Choose a value from the list."),
        ({"contact": "x" * 1001}, "contact", "The text is too long."),
    ],
)
def test_bad_partner_details_name_the_field_and_save_nothing(w: World, changes, field, message) -> None:  # noqa: ANN001
    before = w.snapshot()
    with pytest.raises(Invalid) as refused:
        partners.add_partner(w.request_ctx("admin"), {**SHELTER, **changes})
    assert refused.value.errors[field] == [message]
    assert w.snapshot() == before


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"purposes": []}, "purposes", "Choose at least one purpose."),
        ({"fields_ReferralAssistance": []}, "fields_ReferralAssistance", "Choose at least one field for this purpose."),
        ({"fields_FollowUp": ["person.passport_number"]}, "fields_FollowUp", "Choose a value from the list."),
        ({"consent_FollowUp": ""}, "consent_FollowUp", "Choose the consent this purpose needs."),
        (
            {"fields_HandOver": ["person.sex"]},
            "fields_HandOver",
            "Tick the purpose to share these fields, or leave them empty.",
        ),
        ({"valid_until": "2020-01-01"}, "valid_until", "The end cannot be before the start."),
        ({"valid_from": "soon"}, "valid_from", "Enter a valid date (YYYY-MM-DD)."),
    ],
)
def test_a_bad_agreement_names_the_field_and_saves_nothing(w: World, changes, field, message) -> None:  # noqa: ANN001
    partner_id = a_partner(w)
    before = w.snapshot()
    with pytest.raises(Invalid) as refused:
        partners.draft_agreement(w.request_ctx("admin"), partner_id, agreement_form(**changes))
    assert refused.value.errors[field] == [message]
    assert w.snapshot() == before


def test_an_agreement_is_in_force_only_once_hq_approves_it_and_within_its_dates(w: World) -> None:
    partner_id = a_partner(w)
    admin = w.request_ctx("admin")
    assert partners.draft_agreement(admin, partner_id, agreement_form()) == 1
    assert (
        partners.draft_agreement(admin, partner_id, agreement_form(purposes=["ReferralAssistance"], fields_FollowUp=[]))
        == 1
    )
    [draft] = w.all(SharingAgreement, partner_id=partner_id)
    assert (draft.status, list(draft.document["purposes"])) == (DRAFT, ["ReferralAssistance"])

    def in_force(on: date) -> partners.Agreement | None:
        with mission_session(w.ctx("admin")) as session:
            return partners.agreement_in_force(session, partner_id, on)

    assert in_force(TODAY) is None  # a draft shares nothing
    assert partners.approve_agreement(w.request_ctx("hq"), "THA", draft.id) == 1
    agreement = in_force(TODAY)
    assert agreement == partners.Agreement(
        1,
        {"ReferralAssistance": partners.Purpose(frozenset({"person.given_name", "referral.needs"}), "Referral")},
        TODAY - timedelta(days=1),
        TODAY + timedelta(days=365),
    )
    assert in_force(TODAY - timedelta(days=2)) is None and in_force(TODAY + timedelta(days=366)) is None

    assert partners.draft_agreement(admin, partner_id, agreement_form()) == 2
    assert in_force(TODAY).version == 1  # type: ignore[union-attr] - the draft waits; version 1 stays
    second = w.one(SharingAgreement, partner_id=partner_id, version=2)
    partners.approve_agreement(w.request_ctx("hq"), "THA", second.id)
    assert [a.status for a in w.all(SharingAgreement, partner_id=partner_id)] == [SUPERSEDED, APPROVED]
    assert set(in_force(TODAY).purposes) == {"ReferralAssistance", "FollowUp"}  # type: ignore[union-attr]
    with pytest.raises(partners.NotADraft):
        partners.approve_agreement(w.request_ctx("hq"), "THA", second.id)


def test_an_agreement_whose_document_no_longer_validates_shares_nothing(w: World) -> None:
    partner_id = approved_partner(w)
    with w.rt.engine.begin() as conn:
        conn.execute(
            sa.update(SharingAgreement.__table__).values(
                document={"purposes": {"Gossip": {"fields": [], "consent": "X"}}}
            )
        )
    with mission_session(w.ctx("admin")) as session:
        assert partners.agreement_in_force(session, partner_id, TODAY) is None


def test_the_drafter_never_approves_even_holding_both_permissions(w: World) -> None:
    grant_role(w, "hq", "ctm.mission_admin")
    partner_id = partners.add_partner(w.request_ctx("hq"), SHELTER)
    partners.draft_agreement(w.request_ctx("hq"), partner_id, agreement_form())
    [draft] = w.all(SharingAgreement, partner_id=partner_id)
    with pytest.raises(partners.OwnDraft):
        partners.approve_agreement(w.request_ctx("hq"), "THA", draft.id)
    assert w.one(SharingAgreement, id=draft.id).status == DRAFT
    with pytest.raises(NotFound):  # the drafting administrator holds no approval permission
        partners.approve_agreement(w.request_ctx("admin"), "THA", draft.id)


def test_hq_sees_the_drafts_of_its_missions_each_reading_audited_there(w: World) -> None:
    tha, khm = a_partner(w, "THA"), a_partner(w, "KHM")
    partners.draft_agreement(w.request_ctx("admin", "THA"), tha, agreement_form())
    partners.draft_agreement(w.request_ctx("admin", "KHM"), khm, agreement_form())
    drafts = partners.hq_drafts(w.request_ctx("hq"))
    assert {(d.mission.code, d.partner.id) for d in drafts} == {("THA", tha), ("KHM", khm)}
    viewed = {e.mission_code for e in w.all(AuditEvent, action="agreements.view")}
    assert {"THA", "KHM"} <= viewed


def test_a_mission_sees_and_changes_only_its_own_partners(w: World) -> None:
    khm = a_partner(w, "KHM")
    ctx = w.request_ctx("admin", "THA")
    assert partners.partners_of_mission(ctx) == []
    for call in (
        lambda: partners.partner_file(ctx, khm),
        lambda: partners.issue_credential(ctx, khm),
        lambda: partners.draft_agreement(ctx, khm, agreement_form()),
    ):
        with pytest.raises(NotFound):
            call()
    with pytest.raises(NotFound):  # a caseworker does not manage partners
        partners.partners_of_mission(w.request_ctx("caseworker"))


def test_an_exchange_is_recorded_with_its_agreement_version_and_audited(w: World) -> None:
    partner_id = approved_partner(w)
    ctx = w.job_ctx("THA")
    with mission_session(ctx) as session, session.begin():
        partners.record_exchange(session, ctx, partner_id, INBOUND, "SubmitReferral", "SH-2026-0042", 1, "accepted")
    [exchange] = w.all(PartnerExchange)
    assert (exchange.mission_code, exchange.direction, exchange.reference, exchange.agreement_version) == (
        "THA",
        INBOUND,
        "SH-2026-0042",
        1,
    )
    [event] = w.all(AuditEvent, action="partner.exchange")
    assert (event.mission_code, event.username, event.field_groups) == ("THA", "system", ["partners"])
    file = partners.partner_file(w.request_ctx("admin"), partner_id)
    assert [x.outcome for x in file.exchanges] == ["accepted"]
    with pytest.raises(ValueError, match="sideways"), mission_session(ctx) as session:
        partners.record_exchange(session, ctx, partner_id, "sideways", "SubmitReferral", None, None, "refused")
