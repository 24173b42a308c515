"""``make bench``: what the plugin machinery costs a request.

1. Per-mission hook dispatch (the host's ``call_mission``: pluggy's subset hook caller over
   the mission's enabled plugins, cached per enabled set) beside pluggy's plain hook call, the floor.
2. A beneficiary page in a mission with the CTM enabled (CT tab computed) beside the
   same page where the CTM is disabled, on SQLite under a temporary folder.
3. The case-overview tab with 100,000 cases, on SQLite and PostgreSQL
   (:mod:`benchmarks.case_overview`).
4. The case list at 1,000 and 100,000 cases (:mod:`benchmarks.case_list`): the first page, a deep keyset page,
   a status-and-owner filter and a search by case number, p95 and the ratio between the two sizes.
5. The exchanges with the host (:mod:`benchmarks.sync`): mapping a page of host beneficiaries
   beside zeep's reading of it; pulling 10,000 beneficiaries over HTTP beside the raw pages;
   relaying 1,000 return bookings through the outbox beside direct SOAP calls, and the time
   from a booking's commit to BOOKED.
6. Concurrent users on the CT tab of the demo served over HTTP (:mod:`benchmarks.concurrency`):
   60 users beside one, with throughput, p50/p95, non-2xx answers and the longest pool wait.
7. The case and process tabs with sealing on beside the same tabs over a plaintext copy of the database
   (:mod:`benchmarks.sealing`), p95 and its ratio (goal: within 1.3x).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import sqlalchemy as sa
from flask import Flask, g

from benchmarks import case_list, case_overview, concurrency, sealing, sync
from benchmarks.harness import logged_in, measure, report
from mimosa_host.context import build_context
from mimosa_host.demo import seed
from mimosa_host.models import Mission, User
from mimosa_host.plugins import PluginHost
from mimosa_host.runtime import Runtime
from mimosa_host.web import create_app


def bench_dispatch(rt: Runtime, app: Flask) -> None:
    host = rt.host
    with rt.factory() as s:
        user = s.scalar(sa.select(User).where(User.username == "caseworker"))
        ctx, _enabled = build_context(s, host, rt.factory, s.get(Mission, "THA"), user, "en", plugin="ctm")
    kwargs = {"record_type": "beneficiary", "record_ref": "BEN-1000001", "ctx": ctx}
    with app.test_request_context("/m/THA/beneficiaries"):
        g.mission = ctx.mission  # url_for in the CT tab hook fills the mission from here
        floor = measure("pluggy hook call, every plugin", lambda: host.pm.hook.mimosa_record_tabs(**kwargs), 5000)
        scoped = measure(
            "host call_mission, plugins enabled in the mission",
            lambda: host.call_mission("mimosa_record_tabs", {"ctm"}, **kwargs),
            5000,
        )
        none = measure(
            "host call_mission, no plugin enabled in the mission",
            lambda: host.call_mission("mimosa_record_tabs", set(), **kwargs),
            5000,
        )
    report("Record-tab hook dispatch (1 plugin installed; the CT hook looks the case up)", floor, scoped, none)


def bench_page(app: Flask) -> None:
    client = logged_in(app)
    base = "https://localhost"

    def get(url: str):  # noqa: ANN202
        def run() -> None:
            response = client.get(url, base_url=base)
            assert response.status_code == 200, response.status_code

        return run

    without = measure("beneficiary page, CTM disabled (MDA)", get("/m/MDA/beneficiaries/BEN-3000001"), 300)
    with_tab = measure("beneficiary page, CTM enabled (THA, CT tab)", get("/m/THA/beneficiaries/BEN-1000001"), 300)
    ct_page = measure("CT tab page (THA)", get("/m/THA/plugins/ctm/records/beneficiary/BEN-1000001/case"), 300)
    report("Beneficiary pages over the Flask test client, SQLite", without, with_tab, ct_page)


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        host = PluginHost()
        host.load_entry_points()
        rt = Runtime.from_url(f"sqlite:///{Path(folder) / 'bench.db'}", host=host)
        seed(rt)
        app = create_app(rt)
        bench_dispatch(rt, app)
        bench_page(app)
        rt.engine.dispose()
    case_overview.main()
    case_list.main()
    sync.main()
    concurrency.main()
    sealing.main()


if __name__ == "__main__":
    main()
