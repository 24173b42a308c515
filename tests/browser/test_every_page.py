"""Every CT page, at a phone's width, in each language: axe-clean (no serious or critical violation)
and no sideways scrolling.

The pages are the CT blueprint's GET routes as the host mounted them, so a page added later is
visited without touching this file; a route whose path needs a value this file cannot give fails
the test, naming it. Each route is visited as the first demo user allowed to see it, one browser
context (one login) per user.
"""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa
from a11y import PHONE, problems
from click.testing import CliRunner
from steps import log_in, switch_locale

from ctm_plugin.domain.assistance import Consent
from ctm_plugin.domain.case import Case
from ctm_plugin.domain.partner_service import InboundReferral
from ctm_plugin.domain.partners import Partner
from ctm_plugin.security.permissions import ROLES
from mimosa_host.cli import main as host_cli
from mimosa_host.demo import DEMO_USERS
from mimosa_host.runtime import Runtime

MISSION = "KHM"
"""The mission every page is visited in: the demo's received hand-over and reintegration case are there."""
PERSON = "BEN-2000007"
"""The demo's KHM case with a reintegration plan, disbursements and monitoring visits."""
USERS = ("supervisor", "caseworker", "integrator", "hq", "auditor", "admin", "movement", "childprotection", "analyst")
"""Who visits a page: the first of these who holds its permission in the mission (few users, few logins)."""
LOCALES = ("en", "fr", "es")


def with_the_demo_stories(rt: Runtime) -> None:
    """The demo data with its hand-over (THA to KHM), its reintegration and emergency-fund stories, its person
    identified again (a re-trafficking match for HQ) and its recruiter shared by three cases (intelligence); the
    reintegration case's person consents to law enforcement's referral package, so that it shows; KHM has a
    partner, so that its page and agreement form show, and a referral from it, so that the inbox's page shows."""
    url = rt.engine.url.render_as_string(hide_password=False)
    for story in ("handover", "reintegration", "retrafficking", "intelligence"):
        result = CliRunner().invoke(host_cli, ["--database", url, "ctm", "demo", story])
        assert result.exit_code == 0, result.output
    with rt.factory() as s, s.begin():
        case_id = s.scalar(sa.select(Case.id).where(Case.mission_code == MISSION, Case.beneficiary_id == PERSON))
        s.add(
            Consent(
                mission_code=MISSION,
                case_id=case_id,
                purpose="LawEnforcement",
                items=["ConsentedToInterview"],
                given_on=date(2026, 2, 3),
                method="Written",
                recorded_by="khm.caseworker",
            )
        )
        shelter = Partner(
            mission_code=MISSION,
            name="Synthetic Shelter",
            kind="Shelter",
            contact="intake@shelter.example",
            created_by="admin",
        )
        s.add(shelter)
        s.flush()
        referral = InboundReferral(
            mission_code=MISSION,
            partner_id=shelter.id,
            partner_reference="SYN-1",
            purpose="ReferralAssistance",
            payload_hash="0" * 64,
            agreement_version=1,
        )
        referral.payload = {"referral.needs": "Synthetic need"}
        s.add(referral)


pytestmark = pytest.mark.database.with_args(with_the_demo_stories)


def visitor(permission: str) -> str | None:
    """The first of :data:`USERS` whose demo roles in :data:`MISSION` grant ``permission``."""
    granting = {role.name for role in ROLES if permission in role.permissions}
    for username, _name, roles, missions, _hq in sorted(
        DEMO_USERS, key=lambda u: USERS.index(u[0]) if u[0] in USERS else 99
    ):
        if (missions is None or MISSION in missions) and granting & set(roles):
            return username
    return None


def values(rt: Runtime) -> dict[str, str]:
    """A value for each part of a CT route's path, from the demo's stories."""
    with rt.engine.connect() as conn:
        one = lambda sql, **p: str(conn.execute(sa.text(sql), p).scalar_one())  # noqa: E731
        return {
            "mission": MISSION,
            "record_type": "beneficiary",
            "record_ref": PERSON,
            "case_id": one(
                "select id from ctm_case where mission_code = :m and beneficiary_id = :b", m=MISSION, b=PERSON
            ),
            "handover_id": one("select max(id) from ctm_handover where to_mission = :m", m=MISSION),
            "request_mission": "THA",
            "request_id": one("select max(id) from ctm_fund_request where mission_code = 'THA'"),
            "partner_id": one("select max(id) from ctm_partner where mission_code = :m", m=MISSION),
            "referral_id": one("select max(id) from ctm_inbound_referral where mission_code = :m", m=MISSION),
        }


def ct_pages(app, known: dict[str, str]) -> tuple[dict[str, list[str]], list[str]]:  # noqa: ANN001 - Flask
    """The CT GET routes' URLs grouped by who visits them, and the routes that cannot be visited (why)."""
    by_user: dict[str, list[str]] = {}
    missing: list[str] = []
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("ctm.") or rule.endpoint == "ctm.static" or "GET" not in rule.methods:
            continue
        view = app.view_functions[rule.endpoint]
        lacking = [name for name in rule.arguments if name not in known]
        user = visitor(getattr(view, "permission", ""))
        if lacking or user is None:
            missing.append(f"{rule.rule}: " + (f"no value for {lacking}" if lacking else "no demo user may see it"))
            continue
        by_user.setdefault(user, []).append(rule.build({name: known[name] for name in rule.arguments})[1])
    return by_user, missing


def test_every_ct_page_is_accessible_at_a_phones_width_in_each_language(live_host, new_page) -> None:  # noqa: ANN001
    by_user, missing = ct_pages(live_host.app, values(live_host.rt))
    assert not missing, "CT pages this test cannot visit: " + "; ".join(missing)
    assert sum(len(urls) for urls in by_user.values()) > 20
    found: list[str] = []
    for user, urls in by_user.items():
        page = new_page(width=PHONE)
        log_in(page, user)
        for locale in LOCALES:
            page.goto(urls[0])
            switch_locale(page, locale)
            assert page.locator("html").get_attribute("lang") == locale
            for url in urls:
                response = page.request.get(url)
                assert response.status == 200, f"{url} as {user}: {response.status}"
                if "text/html" not in response.headers.get("content-type", ""):
                    continue  # a download (CSV): not a page
                if not response.text().lstrip().lower().startswith("<!doctype html"):
                    continue  # a fragment a page's script fetches (the Return tab's bookings): not a page
                page.goto(url)
                found += [f"{url} as {user} in {locale}: {problem}" for problem in problems(page)]
    assert not found, f"{len(found)} problems:\n" + "\n".join(found)
