"""ctm0032 on a database with a research export downloaded before: the request stays, with no people kept (a later
export that overlaps it is set beside it made again, as before); a download after it keeps the people its file
released, as keyed indexes of their cases; down again, the table goes and the requests stay."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import command
from alembic.script import ScriptDirectory
from old_rows import AT
from test_research_export_privacy import people, years
from world import World

from ctm_plugin.domain.research import DOWNLOADED, ReleasedCase, ResearchExport
from ctm_plugin.hooks.database import SCRIPT_LOCATION, VERSION_TABLE
from ctm_plugin.research import small_cell_k
from ctm_plugin.services import research_exports as exports
from mimosa_host import db

TABLE = "ctm_research_export_case"


def test_ctm0032_keeps_the_exports_downloaded_before_and_the_people_of_those_downloaded_after(w: World) -> None:
    cfg = db.alembic_config(w.rt.engine, SCRIPT_LOCATION, VERSION_TABLE)
    previous = ScriptDirectory.from_config(cfg).get_revision("ctm0032").down_revision
    assert isinstance(previous, str)
    command.downgrade(cfg, previous)
    assert TABLE not in sa.inspect(w.rt.engine).get_table_names()
    with w.rt.engine.begin() as conn:
        old_id = conn.scalar(
            sa.text(
                "INSERT INTO ctm_research_export (missions, layout, year_from, year_to, purpose, status,"
                " requested_by, requested_by_id, requested_at, downloaded_at, version, mission_code) VALUES"
                " ('[\"THA\"]', 'CTDC', 2024, 2025, 'Trends from before.', 'downloaded', 'researcher', 1, :at, :at,"
                " 2, 'THA') RETURNING id"
            ),
            {"at": AT},
        )

    command.upgrade(cfg, "heads")
    old = w.one(ResearchExport, id=old_id)
    assert (old.purpose, old.status) == ("Trends from before.", DOWNLOADED)
    assert w.all(ReleasedCase, export_id=old_id) == []
    people(w, "THA", 2 * small_cell_k())
    new_id = exports.request_export(w.request_ctx("researcher"), years(missions=["THA"]))
    exports.decide(w.request_ctx("hq"), "THA", new_id, {"decision": "approve"})
    exports.download(w.request_ctx("researcher"), new_id)
    assert len(w.all(ReleasedCase, export_id=new_id)) == 2 * small_cell_k()

    command.downgrade(cfg, previous)
    assert TABLE not in sa.inspect(w.rt.engine).get_table_names()
    with w.rt.engine.connect() as conn:
        kept = conn.execute(sa.text("SELECT id, status FROM ctm_research_export ORDER BY id")).all()
    assert [tuple(row) for row in kept] == [(old_id, DOWNLOADED), (new_id, DOWNLOADED)]
    command.upgrade(cfg, "heads")
