"""The intelligence pages' read at 5,000 cases (quick: 1,000) of one mission, each with a perpetrator (its alias
sealed) and two events, beside a plain SELECT of the same rows (no alias opened, nothing linked), in the same run;
and the network page itself over HTTP (the bounded picture drawn) beside the same read.

What it shows: opening the aliases and linking the cases in this process costs a bounded multiple of reading the
rows, and drawing the network adds little to it (the picture is bounded, whatever the cases).
"""

from __future__ import annotations

import random
import tempfile
from datetime import date
from pathlib import Path

import sqlalchemy as sa

from benchmarks.harness import Result, logged_in, measure, report
from ctm_plugin.domain.case import Case, VictimContext
from ctm_plugin.domain.process import Perpetrator, TraffickingEvent
from ctm_plugin.security.keys import FileKeyStore, use_key_store
from ctm_plugin.services import intelligence
from mimosa_host import accounts
from mimosa_host.context import build_context
from mimosa_host.demo import seed
from mimosa_host.models import Mission, User
from mimosa_host.plugins import PluginHost
from mimosa_host.runtime import Runtime
from mimosa_host.web import create_app

CASES = 5000
ALIASES = 400
"""Distinct recruiters among the cases: each links a dozen cases, as a busy network would."""
TOWNS = ("Poipet", "Bangkok", "Pattaya", "Mae Sot", "Ranong", "Chiang Mai", "Hat Yai", "Phnom Penh")


def _cases(rt: Runtime, count: int) -> None:
    rng = random.Random(14)  # noqa: S311 - synthetic data
    with rt.factory() as s, s.begin():
        for n in range(count):
            case = Case(
                mission_code="THA",
                case_number=f"THA-CT-2025-{n + 1:05d}",
                beneficiary_id=f"SYN-INT-{n:06d}",
                owner="caseworker",
                opened_on=date(2025, 1, 1),
                updated_by="caseworker",
            )
            case.victim = VictimContext(mission_code="THA", recruitment_methods=["ThroughFriendsOrSocialEvents"])
            s.add(case)
            s.flush()
            recruited = TraffickingEvent(
                mission_code="THA", case_id=case.id, sequence=1, type="Recruitment", country="KHM",
                locality=rng.choice(TOWNS),
            )  # fmt: skip
            exploited = TraffickingEvent(
                mission_code="THA", case_id=case.id, sequence=2, type="Exploitation", country="THA",
                locality=rng.choice(TOWNS),
            )  # fmt: skip
            perpetrator = Perpetrator(
                mission_code="THA", case_id=case.id, roles=["RecruiterOrIntermediary"], nationality="THA"
            )
            perpetrator.alias = f"Synthetic Recruiter {rng.randrange(ALIASES)}"
            perpetrator.events = [recruited]
            s.add_all([recruited, exploited, perpetrator])


def _plain(rt: Runtime) -> None:
    with rt.factory() as s:
        for model in (Case, Perpetrator, TraffickingEvent, VictimContext):
            s.execute(sa.select(model.__table__)).all()


def run(quick: bool) -> Result:
    count, runs = (1000, 10) if quick else (CASES, 20)
    with tempfile.TemporaryDirectory() as folder:
        use_key_store(FileKeyStore(Path(folder) / "keys.json"))
        host = PluginHost()
        host.load_entry_points()
        rt = Runtime.from_url(f"sqlite:///{Path(folder) / 'intelligence.db'}", host=host)
        seed(rt)
        with rt.factory() as s, s.begin():
            analyst = s.scalar(sa.select(User).where(User.username == "analyst"))
            assert accounts.granted_roles(s, analyst.id, "THA") == {"ctm.intelligence_analyst"}
        _cases(rt, count)
        with rt.factory() as s:
            ctx, _enabled = build_context(s, rt.host, rt.factory, s.get(Mission, "THA"), analyst, "en", plugin="ctm")
        client = logged_in(create_app(rt), "analyst")

        def network_page() -> None:
            response = client.get("/m/THA/plugins/ctm/intelligence/network", base_url="https://localhost")
            assert response.status_code == 200, response.status_code

        plain = measure(f"plain SELECT of the rows, {count} cases", lambda: _plain(rt), runs, warmup=2)
        read = measure(f"intelligence read (aliases opened, linked), {count} cases", lambda: _read(ctx), runs, 2)
        page = measure(f"the network page over HTTP, {count} cases", network_page, runs, warmup=2)
        report(f"Intelligence at {count} cases of one mission", plain, read, page)
    return Result("intelligence", read.median, "s", "plain SELECT of the same rows", plain.median)


def _read(ctx) -> None:  # noqa: ANN001 - a RequestContext
    found = intelligence.read(ctx)
    assert found.case_count and found.shared
