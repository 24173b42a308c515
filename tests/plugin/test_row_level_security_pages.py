"""Every page and job of the CTM works the same as PostgreSQL's application role, bound by row-level security.

The suite connects as the tables' owner (a superuser), which row-level security lets see every row: a page
or a job reading outside a session that sets its mission (``domain/scope.py``) would pass there and show
nothing, or fail, in production. Here two hosts run on the same database, seeded with the demo's stories
(as the application's role, see ``test_row_level_security.py``): one connects as the owner, the other as the
application's role. Every GET page of the CTM is asked of both, as a user who may see it, with the seeded
rows as its parameters; each answers the same (status and page, but for its CSRF token, the moment it was
printed and a chart's random id). The CTM's jobs run once through the host's job runner as either role, each
on its own copy of the database, and do the same work.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import sqlalchemy as sa
from exchange_hosts import point_ctm_missions_at
from test_routes import EXPECTED
from test_row_level_security import (  # noqa: F401 - `application` is a fixture, used by its name
    application,
    with_the_stories_as_the_application,
)
from world import World, set_ctm_settings

from ctm_plugin.demo import STAGED
from ctm_plugin.domain.handover import ON_NO_RECORD
from ctm_plugin.hooks.jobs import mimosa_jobs as ctm_jobs
from ctm_plugin.services import job_outcomes, retention
from mimosa_host.demo import DEMO_USERS
from mimosa_host.jobs import JobRunner
from mimosa_host.runtime import Runtime
from mimosa_host.web import create_app

pytestmark = [
    pytest.mark.database.with_args(with_the_stories_as_the_application),
    pytest.mark.parametrize("database_url", ["postgresql"], indirect=True),
]

MISSIONS = ("THA", "KHM")
NO_CASE = {"THA": "BEN-1000001", "KHM": "BEN-2000001"}
"""A person of each mission the stories open no case for: the case tabs offer to open one."""
AUDIT_PAGES = ("ctm.case_audit_trail", "ctm.audit_trail_page", "ctm.audit_trail_csv")
"""Reading the trail is audited: these are asked for the trail as it stood before the test (``before``); the
export, the whole trail whatever ``before`` says, is compared without its own ``audit.export`` lines."""

PACKAGES = ("ctm.referral_package", "ctm.referral_package_csv")
"""Law enforcement's referral package: only for a case whose person consents to it."""
GET_PAGES = sorted(endpoint for endpoint, (method, _permission) in EXPECTED.items() if method == "GET")


@dataclass(frozen=True)
class Seeded:
    """The rows the pages are asked about, per mission (read as the owner, who sees every mission's)."""

    people: dict[str, list[str]]
    """The people with a case (but the one a mission opens on accepting a hand-over, on no record of its host yet:
    no record page can show it; its page is the hand-over's), and one without."""
    cases: dict[str, list[int]]
    handovers: list[tuple[str, int]]
    """(the receiving mission, id)"""
    fund_requests: list[tuple[str, int]]
    first_unseen_event: int
    """The first audit event the test writes itself: the trail is asked for what comes before it."""
    law_enforcement: frozenset[int]
    """The cases whose consent to law enforcement's referral package is in force: the others' is refused (409)."""
    partners: list[tuple[str, int]]
    """(the partner's mission, id): its pages are that mission's only."""
    referrals: list[tuple[str, int]]
    """(the receiving mission, id): a partner's referral's page is that mission's only."""


def seeded(rt: Runtime) -> Seeded:
    with rt.engine.connect() as conn:

        def of(mission: str, query: str) -> list:
            return list(conn.scalars(sa.text(query), {"mission": mission, "no_record": ON_NO_RECORD + "%"}))

        people = {
            mission: [
                *of(
                    mission,
                    "SELECT beneficiary_id FROM ctm_case WHERE mission_code = :mission"
                    " AND beneficiary_id NOT LIKE :no_record ORDER BY id",
                ),
                NO_CASE[mission],
            ]
            for mission in MISSIONS
        }
        cases = {
            mission: of(mission, "SELECT id FROM ctm_case WHERE mission_code = :mission ORDER BY id")
            for mission in MISSIONS
        }
        handovers = [tuple(row) for row in conn.execute(sa.text("SELECT to_mission, id FROM ctm_handover ORDER BY id"))]
        requests = [
            tuple(row) for row in conn.execute(sa.text("SELECT mission_code, id FROM ctm_fund_request ORDER BY id"))
        ]
        last_event = conn.scalar(sa.text("SELECT max(id) FROM ctm_audit_event"))
        consenting = frozenset(
            conn.scalars(
                sa.text("SELECT case_id FROM ctm_consent WHERE purpose = 'LawEnforcement' AND withdrawn_on IS NULL")
            )
        )
        partners = [tuple(row) for row in conn.execute(sa.text("SELECT mission_code, id FROM ctm_partner ORDER BY id"))]
        referrals = [
            tuple(row) for row in conn.execute(sa.text("SELECT mission_code, id FROM ctm_inbound_referral ORDER BY id"))
        ]
    return Seeded(people, cases, handovers, requests, last_event + 1, consenting, partners, referrals)  # type: ignore[arg-type]


def with_partners(w: World) -> None:
    """A partner in each mission, with a credential, an agreement drafted and approved (the demo has none) and a
    referral it sent."""
    from partner_rows import NEEDS, Ngo, refer
    from test_partners import SHELTER, agreement_form

    from ctm_plugin.services import partners

    ngos = {}
    for mission in MISSIONS:
        partner_id = partners.add_partner(w.request_ctx("admin", mission), SHELTER)
        ngos[mission] = Ngo(partner_id, *partners.issue_credential(w.request_ctx("admin", mission), partner_id))
        partners.draft_agreement(w.request_ctx("admin", mission), partner_id, agreement_form())
    for draft in partners.hq_drafts(w.request_ctx("hq")):  # read mission by mission, as the application can
        partners.approve_agreement(w.request_ctx("hq"), draft.mission.code, draft.agreement.id)
    for mission, ngo in ngos.items():  # a referral in each mission's inbox, sent through the partner service
        refer(w.rt, ngo, f"RLS-{mission}", {NEEDS: "shelter"}, mission)


def pages(app, data: Seeded) -> Iterator[tuple[str, str, str, int]]:  # noqa: ANN001 - a Flask app
    """(endpoint, mission, URL, the status the owner's host must answer) of every GET page of the CTM in each
    mission, with every seeded row it takes."""
    rules = {rule.endpoint: rule for rule in app.url_map.iter_rules() if rule.endpoint in GET_PAGES}
    adapter = app.url_map.bind("localhost")
    for endpoint in GET_PAGES:
        arguments = rules[endpoint].arguments - {"mission"}
        for mission in MISSIONS:
            choices: list[tuple[dict[str, object], int]]
            if "record_ref" in arguments:
                choices = [
                    # A person without a case: the overview offers to open one; the other tabs are none of theirs.
                    (
                        {"record_type": "beneficiary", "record_ref": ref},
                        404 if ref == NO_CASE[mission] and endpoint != "ctm.case_overview" else 200,
                    )
                    for ref in data.people[mission]
                ]
            elif arguments == {"handover_id"}:  # a hand-over's page is the receiving mission's
                choices = [
                    ({"handover_id": handover}, 200 if to == mission else 404) for to, handover in data.handovers
                ]
            elif arguments == {"case_id"} and endpoint in PACKAGES:
                choices = [
                    ({"case_id": case}, 200 if case in data.law_enforcement else 409) for case in data.cases[mission]
                ]
            elif arguments == {"case_id"}:
                choices = [({"case_id": case}, 200) for case in data.cases[mission]]
            elif arguments == {"request_mission", "request_id"}:
                choices = [({"request_mission": m, "request_id": i}, 200) for m, i in data.fund_requests]
            elif arguments == {"partner_id"}:
                choices = [({"partner_id": i}, 200 if m == mission else 404) for m, i in data.partners]
            elif arguments == {"referral_id"}:
                choices = [({"referral_id": i}, 200 if m == mission else 404) for m, i in data.referrals]
            else:
                assert not arguments, f"{endpoint}: fill {arguments} from the seeded rows"
                choices = [({}, 200)]
            assert choices, f"{endpoint}: the demo's stories seed nothing for it in {mission}"
            query = {"before": data.first_unseen_event} if endpoint in AUDIT_PAGES else {}
            for values, status in choices:
                yield endpoint, mission, adapter.build(endpoint, {"mission": mission, **values, **query}), status


# What legitimately differs between two answers to the same request.
VOLATILE = (
    (re.compile(r'(name="csrf_token" value=")[^"]*"'), r'\1"'),
    (re.compile(r"(Printed by [^<]* on )[^<]*(</p>)"), r"\1now\2"),  # the printed summary's moment
    (re.compile(r"(Produced by [^<]* on )[^;<]*(;)"), r"\1now\2"),  # the referral package's moment
    (re.compile(r"chart-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"), "chart-"),  # a chart's own id
    (re.compile(r"^[^\r\n]*,audit\.export,[^\r\n]*\r\n", re.MULTILINE), ""),  # the exports the test itself made
)


def comparable(body: str) -> str:
    for pattern, replacement in VOLATILE:
        body = pattern.sub(replacement, body)
    return body


def test_every_page_answers_the_same_as_the_application_role(
    demo: Runtime,
    application: Runtime,  # noqa: F811 - the imported fixture
    login_to,  # noqa: ANN001
):
    """Each page, asked of both hosts by a user who holds its permission in the mission, answers the same."""
    with_partners(World(application))
    data = seeded(demo)
    owner_app = create_app(demo, {"TESTING": True})
    bound_app = create_app(application, {"TESTING": True})
    w = World(demo)
    users = [username for username, *_rest in DEMO_USERS]
    browsers: dict[tuple[object, str], object] = {}

    def browser(app, username: str):  # noqa: ANN001, ANN202
        if (app, username) not in browsers:
            browsers[app, username] = login_to(app, username)
        return browsers[app, username]

    def who_may(endpoint: str, mission: str) -> str:
        return next(user for user in users if w.ctx(user, mission).can(EXPECTED[endpoint][1]))

    differing, unexpected, shown = {}, {}, set()
    for endpoint, mission, url, expected in pages(owner_app, data):
        username = who_may(endpoint, mission)
        answers = []
        for app in (owner_app, bound_app):
            try:
                response = browser(app, username).get(url)
                answers.append((response.status_code, comparable(response.get_data(as_text=True))))
            except Exception as exc:  # noqa: BLE001 - reported with the others
                answers.append((500, f"raised {type(exc).__name__}: {exc}"))
        (owner_status, owner_page), (status, page) = answers
        if (owner_status, owner_page) != (status, page):
            differing[url] = (username, owner_status, status, _first_difference(owner_page, page))
        if owner_status != expected:
            unexpected[url] = (username, owner_status)
        if owner_status == 200:
            shown.add(endpoint)
    assert not differing, "\n".join(f"{url} as {answer[0]}: {answer[1:]}" for url, answer in differing.items())
    assert unexpected == {}
    assert sorted(shown) == GET_PAGES  # every page shown with the seeded rows, none skipped


def _first_difference(one: str, other: str) -> str:
    at = next((i for i, (a, b) in enumerate(zip(one, other, strict=False)) if a != b), min(len(one), len(other)))
    return f"owner: {one[max(0, at - 80) : at + 120]!r} / application: {other[max(0, at - 80) : at + 120]!r}"


CLOSED_PERSON = next(person for person, stage, *_rest in STAGED if stage == "closed")
UNREACHABLE_HOST = "http://127.0.0.1:1/"
"""Where no host answers (port 1 of the loopback: the connection is refused at once)."""


@pytest.mark.parametrize("role", ["owner", "application"])
def test_the_jobs_do_their_work_as_the_application_role(
    demo: Runtime,
    application: Runtime,  # noqa: F811 - the imported fixture
    role: str,
    caplog: pytest.LogCaptureFixture,
):
    """Run once by the host's job runner as either role (each on its own copy of the database), the CTM's jobs end
    the same: the retention's dry run sees THA's closed case past its retention and the purge deletes it, the
    relay tries THA's messages, the feeds find the host unreachable, and no job fails."""
    runtime = demo if role == "owner" else application
    point_ctm_missions_at(demo, UNREACHABLE_HOST)
    with demo.engine.begin() as conn:  # two years pass over THA's closed case, past its retention of one year
        conn.execute(
            sa.text("UPDATE ctm_case SET closed_on = closed_on - 730 WHERE beneficiary_id = :p"), {"p": CLOSED_PERSON}
        )
    for mission in MISSIONS:
        set_ctm_settings(demo, mission, retention_closed_case_years=1, retention_outbox_days=0)
    w = World(runtime)
    dry_runs = {mission: retention.report(w.job_ctx(mission)) for mission in MISSIONS}
    with demo.engine.connect() as conn:
        outbox_before = conn.execute(
            sa.text("SELECT mission_code, status, attempts, error_code FROM ctm_outbox ORDER BY id")
        ).all()
    caplog.set_level(logging.INFO)

    ran = JobRunner(runtime).run_due(force=True)

    assert [record.getMessage() for record in caplog.records if record.levelno >= logging.ERROR] == []
    # Each job once per mission, a plugin-wide one once for the CTM (no mission's code).
    expected = [
        ("ctm", job.name, mission) for job in ctm_jobs() for mission in (("",) if job.plugin_wide else MISSIONS)
    ]
    assert sorted(ran) == sorted(expected)
    # The dry run saw THA's closed case (and KHM's none); the purge then deleted it, and said so.
    assert {mission: report.purged for mission, report in dry_runs.items()} == {"THA": {"closed_cases": 1}, "KHM": {}}
    with demo.engine.connect() as conn:
        outcomes = conn.execute(
            sa.text("SELECT mission_code, job, kind FROM ctm_job_outcome ORDER BY mission_code, job")
        ).all()
        closed = conn.scalar(sa.text("SELECT count(*) FROM ctm_case WHERE beneficiary_id = :p"), {"p": CLOSED_PERSON})
        purges = conn.execute(
            sa.text("SELECT mission_code, field_groups FROM ctm_audit_event WHERE action = 'retention.purge'")
        ).all()
        outbox_after = conn.execute(
            sa.text("SELECT mission_code, status, attempts, error_code FROM ctm_outbox ORDER BY id")
        ).all()
    # The feeds could not reach the host: kept as the mission's problem. The relay's run itself went well: each
    # of THA's two messages (its returns booked by the stories) was tried once and keeps why it failed.
    assert outcomes == [
        (mission, job, None if job == job_outcomes.RELAY else "UNREACHABLE")
        for mission in sorted(MISSIONS)
        for job in sorted((job_outcomes.MOVEMENT_STATUS, job_outcomes.PULL, job_outcomes.RELAY))
    ]
    assert outbox_before == [("THA", "pending", 0, None)] * 2
    assert outbox_after == [("THA", "pending", 1, "CONNECT_FAILED")] * 2
    assert closed == 0
    assert purges == [("THA", ["closed_cases:1"])]
