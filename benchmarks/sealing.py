"""The case tab with sealing on beside the same page over plaintext, in the same run (goal: within 1.3x).

The baseline is a copy of the database whose sealed columns hold the plaintext, read through a passthrough
codec bound here only, for its own timings: the product has no switch that turns sealing off.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa

from benchmarks.harness import Result, Timing, logged_in, measure, report
from ctm_plugin.domain import sealed
from ctm_plugin.domain.case import Case
from ctm_plugin.security.keys import FileKeyStore, use_key_store
from ctm_plugin.services import cases, process
from mimosa_host.context import build_context
from mimosa_host.demo import seed
from mimosa_host.models import Mission, User
from mimosa_host.plugins import PluginHost
from mimosa_host.runtime import Runtime
from mimosa_host.web import create_app

RUNS = 200
ROUNDS = 4
"""Each side is timed in turn this many times and keeps its lowest p95: a burst of load on a shared machine
during one side's turn does not decide the ratio."""
TABS = ("case", "process")


class Passthrough:
    """The benchmark's baseline codec: the stored text is the plaintext."""

    def seal(self, plaintext: str, **_place: str) -> str:
        return plaintext

    def open(self, token: str, **_place: str) -> str:
        return token


@contextmanager
def codec(chosen: sealed.Codec) -> Iterator[None]:
    kept, sealed.codec = sealed.codec, chosen
    try:
        yield
    finally:
        sealed.codec = kept


def _story(rt: Runtime) -> str:
    """A THA case opened with ten events and five perpetrators with their narratives, through the services;
    the person's record id."""
    with rt.factory() as s:
        user = s.scalar(sa.select(User).where(User.username == "caseworker"))
        ctx, _enabled = build_context(s, rt.host, rt.factory, s.get(Mission, "THA"), user, "en", plugin="ctm")
    person = "BEN-1000001"
    case_id = cases.open_case(ctx, person, {"opened_on": "2026-02-03"})

    def version() -> int:
        with rt.factory() as s:
            return s.get(Case, case_id).version  # type: ignore[union-attr]

    for n in range(10):
        note = f"Synthetic narrative {n}: what the person said of this step of the journey, in a few lines."
        process.add_event(ctx, case_id, {"version": version(), "type": "Transit", "country": "THA", "notes": note})
    for n in range(5):
        perpetrator = {"version": version(), "alias": f"Synthetic alias {n}", "roles": ["Transporter"]}
        process.add_perpetrator(ctx, case_id, {**perpetrator, "notes": f"Synthetic note {n} on this person."})
    return person


def _plaintext_copy(rt: Runtime, path: Path) -> Runtime:
    """A copy of the database at ``path`` whose sealed columns hold their plaintext."""
    rt.engine.dispose()
    source = Path(rt.engine.url.database or "")
    with sa.create_engine(f"sqlite:///{source}").connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    shutil.copyfile(source, path)
    plain = Runtime.from_url(f"sqlite:///{path}", host=rt.host)
    with rt.factory() as read, plain.engine.begin() as write:
        for mapper, names in sealed.sealed_attributes():
            for obj in read.scalars(sa.select(mapper.class_)):
                key = dict(
                    zip((c.name for c in mapper.primary_key), mapper.primary_key_from_instance(obj), strict=True)
                )
                values = {name: getattr(obj, name) for name in names}
                write.execute(sa.update(mapper.local_table).filter_by(**key).values(**values))
    return plain


def _tabs(app, person: str, label: str, runs: int) -> list[Timing]:  # noqa: ANN001 - a Flask app
    client = logged_in(app)

    def get(tab: str):  # noqa: ANN202
        def run() -> None:
            response = client.get(
                f"/m/THA/plugins/ctm/records/beneficiary/{person}/{tab}", base_url="https://localhost"
            )
            assert response.status_code == 200, response.status_code

        return run

    return [measure(f"CT {tab} tab, {label}", get(tab), runs) for tab in TABS]


def run(quick: bool) -> Result:
    """The headline: the case tab's p95 sealed beside over plaintext."""
    runs = 50 if quick else RUNS
    ratios: list[Result] = []
    with tempfile.TemporaryDirectory() as folder:
        use_key_store(FileKeyStore(Path(folder) / "keys.json"))
        try:
            host = PluginHost()
            host.load_entry_points()
            rt = Runtime.from_url(f"sqlite:///{Path(folder) / 'sealed.db'}", host=host)
            seed(rt)
            person = _story(rt)
            plain = _plaintext_copy(rt, Path(folder) / "plain.db")
            plain_app, sealed_app = create_app(plain), create_app(rt)
            rounds: list[tuple[list[Timing], list[Timing]]] = []
            for _ in range(ROUNDS):
                with codec(Passthrough()):
                    off = _tabs(plain_app, person, "sealing off (plaintext copy)", runs)
                rounds.append((off, _tabs(sealed_app, person, "sealing on", runs)))
            for n, tab in enumerate(TABS):
                baseline = min((off[n] for off, _on in rounds), key=lambda timing: timing.p95)
                sealed_tab = min((on[n] for _off, on in rounds), key=lambda timing: timing.p95)
                title = f"The {tab} tab sealed vs over plaintext (SQLite, {runs} runs, best of {ROUNDS} turns)"
                report(title, baseline, sealed_tab)
                print(f"  p95 ratio, sealed / plaintext: {sealed_tab.p95 / baseline.p95:.2f}x (goal: 1.30x)\n")
                unit = f"ms p95, CT {tab} tab sealed, SQLite"
                ratios.append(Result("sealing", sealed_tab.p95 * 1e3, unit, "over plaintext, p95", baseline.p95 * 1e3))
            plain.engine.dispose()
            rt.engine.dispose()
        finally:
            use_key_store(None)
    return ratios[0]


def main() -> None:
    run(quick=False)
