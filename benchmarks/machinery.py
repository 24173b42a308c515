"""What the plugin machinery costs a request: the per-mission hook dispatch (the host's ``call_mission``: pluggy's
subset hook caller over the mission's enabled plugins, cached per enabled set) beside pluggy's plain hook call, and
a beneficiary page in a mission with the CTM enabled (CT tab computed) beside the same page where it is disabled,
on SQLite under a temporary folder.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import sqlalchemy as sa
from flask import Flask, g

from benchmarks.harness import Result, logged_in, measure, report
from mimosa_host.context import build_context
from mimosa_host.demo import seed
from mimosa_host.models import Mission, User
from mimosa_host.plugins import PluginHost
from mimosa_host.runtime import Runtime
from mimosa_host.web import create_app


def bench_dispatch(rt: Runtime, app: Flask, runs: int) -> None:
    host = rt.host
    with rt.factory() as s:
        user = s.scalar(sa.select(User).where(User.username == "caseworker"))
        ctx, _enabled = build_context(s, host, rt.factory, s.get(Mission, "THA"), user, "en", plugin="ctm")
    kwargs = {"record_type": "beneficiary", "record_ref": "BEN-1000001", "ctx": ctx}
    with app.test_request_context("/m/THA/beneficiaries"):
        g.mission = ctx.mission  # url_for in the CT tab hook fills the mission from here
        floor = measure("pluggy hook call, every plugin", lambda: host.pm.hook.mimosa_record_tabs(**kwargs), runs)
        scoped = measure(
            "host call_mission, plugins enabled in the mission",
            lambda: host.call_mission("mimosa_record_tabs", {"ctm"}, **kwargs),
            runs,
        )
        none = measure(
            "host call_mission, no plugin enabled in the mission",
            lambda: host.call_mission("mimosa_record_tabs", set(), **kwargs),
            runs,
        )
    report("Record-tab hook dispatch (1 plugin installed; the CT hook looks the case up)", floor, scoped, none)


def bench_page(app: Flask, runs: int) -> Result:
    client = logged_in(app)
    base = "https://localhost"

    def get(url: str):  # noqa: ANN202
        def run() -> None:
            response = client.get(url, base_url=base)
            assert response.status_code == 200, response.status_code

        return run

    without = measure("beneficiary page, CTM disabled (MDA)", get("/m/MDA/beneficiaries/BEN-3000001"), runs)
    with_tab = measure("beneficiary page, CTM enabled (THA, CT tab)", get("/m/THA/beneficiaries/BEN-1000001"), runs)
    ct_page = measure("CT tab page (THA)", get("/m/THA/plugins/ctm/records/beneficiary/BEN-1000001/case"), runs)
    report("Beneficiary pages over the Flask test client, SQLite", without, with_tab, ct_page)
    return Result("dispatch", with_tab.median * 1e3, "ms", without.label, without.median * 1e3)


def run(quick: bool) -> Result:
    with tempfile.TemporaryDirectory() as folder:
        host = PluginHost()
        host.load_entry_points()
        rt = Runtime.from_url(f"sqlite:///{Path(folder) / 'bench.db'}", host=host)
        seed(rt)
        app = create_app(rt)
        bench_dispatch(rt, app, 500 if quick else 5000)
        result = bench_page(app, 50 if quick else 300)
        rt.engine.dispose()
    return result
