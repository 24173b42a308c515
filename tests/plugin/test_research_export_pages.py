"""Research exports as their users meet them: the researcher's page (request, state, report, the one download),
HQ's approvals, the menus. SQLite, and PostgreSQL when configured."""

from __future__ import annotations

import csv
import io
from collections import Counter

from page_parts import error_on, text
from test_research_exports import QUASI, seed_cases
from world import World

from ctm_plugin.domain.research import APPROVED, DOWNLOADED, ResearchExport
from ctm_plugin.research import small_cell_k

EXPORTS = "/m/THA/plugins/ctm/research/exports"
APPROVALS = "/m/THA/plugins/ctm/research/approvals"
REQUEST = {"missions": ["THA", "KHM"], "layout": "CTDC", "year_from": "2023", "year_to": "2024", "purpose": "Trends."}


def test_requested_by_the_researcher_approved_by_hq_downloaded_once(w: World, login) -> None:  # noqa: ANN001
    seed_cases(w, "THA", 150)
    researcher = login("researcher")
    page = text(researcher.get(EXPORTS))
    assert 'data-form="export"' in page and "You have requested no export here." in page
    refused = researcher.post(EXPORTS, {**REQUEST, "year_to": "2020"})
    assert refused.status_code == 422 and error_on(text(refused), "export", "year_to")
    assert w.all(ResearchExport) == []
    assert researcher.post(EXPORTS, REQUEST).status_code == 303
    [export] = w.all(ResearchExport)

    hq = login("hq")
    approvals = text(hq.get(APPROVALS))
    assert f'data-research-export="THA-{export.id}"' in approvals and "Trends." in approvals
    decision = f"{APPROVALS}/THA/{export.id}/decision"
    bad = hq.post(decision, {"decision": "decline"})
    assert bad.status_code == 422 and error_on(text(bad), f"decision-THA-{export.id}", "reason")
    assert hq.post(decision, {"decision": "approve"}).status_code == 303
    assert w.one(ResearchExport, id=export.id).status == APPROVED

    mine = text(researcher.get(EXPORTS))
    assert 'data-state="approved"' in mine and 'data-level="citizenship"' in mine
    download = researcher.post(f"{EXPORTS}/{export.id}/download", {})
    assert download.status_code == 200 and download.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(download.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows and min(Counter(tuple(r[q] for q in QUASI) for r in rows).values()) >= small_cell_k()
    again = researcher.post(f"{EXPORTS}/{export.id}/download", {})
    assert again.status_code == 409 and "downloaded once" in text(again)
    assert w.one(ResearchExport, id=export.id).status == DOWNLOADED


def test_the_menus_offer_each_side_its_page(w: World, login) -> None:  # noqa: ANN001
    researcher = text(login("researcher").get(EXPORTS))
    assert "Research exports to approve" not in researcher
    hq = login("hq")
    assert "Research exports to approve" in text(hq.get(APPROVALS))
    assert hq.get(EXPORTS).status_code == 404
    assert login("caseworker").get(APPROVALS).status_code == 404
