"""What the case tab costs the database, as an operator notices it on PostgreSQL (one round trip a
statement): the tab reads what it shows in a few statements, however much the case holds, and its
view's audit event commits with that read, in the one transaction of the page that writes.

Statements are counted with a ``before_cursor_execute`` listener, grouped by the transaction that
issued them. Runs on SQLite, and on PostgreSQL when configured.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta

import sqlalchemy as sa
from page_parts import text, version

MISSION = "THA"
REF = "BEN-1000001"
BASE = f"/m/{MISSION}/plugins/ctm/records/beneficiary/{REF}/case"
MOST = 9
"""The most statements the tab's own transaction issues: its case with the person, the victim context, the
hand-overs, whether it was handed over, the determination, the request to close and the host link; the audit
event; the follow-ups; the host's answer naming the mission's users, once for the whole page (the owners'
names, the follow-ups' people, whom to reassign to: the users with their roles, read in the tab's transaction);
whether HQ's matching found the person again in another mission (one: the matches the mission reads of HQ's, in
its own session); and the audit chain's four at the commit (the head taken, the transaction's events, their
links, the head moved). (It was 25, one statement per part of the page, then 17, then 13, then 11.)"""
POSTGRESQL_MORE = 1
"""On PostgreSQL: the session's row-level security scope read as the transaction begins."""


@contextmanager
def transactions(engine: sa.Engine) -> Iterator[list[list[str]]]:
    """The statements of every transaction begun meanwhile, one list per transaction."""
    seen: list[list[str]] = []

    def begun(_conn: sa.Connection) -> None:
        seen.append([])

    def executed(_conn, _cursor, statement: str, *_args) -> None:  # noqa: ANN001, ANN002
        if seen:
            seen[-1].append(statement)

    sa.event.listen(engine, "begin", begun)
    sa.event.listen(engine, "before_cursor_execute", executed)
    try:
        yield seen
    finally:
        sa.event.remove(engine, "before_cursor_execute", executed)
        sa.event.remove(engine, "begin", begun)


def writes(statements: list[str]) -> bool:
    return any(s.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE")) for s in statements)


def test_the_case_tab_reads_in_few_statements_and_commits_once(demo, login) -> None:  # noqa: ANN001
    caseworker = login("caseworker")
    caseworker.get(BASE)
    assert caseworker.post(f"{BASE}/open", {"opened_on": "2024-01-10"}).status_code == 303
    for days in (3, -4, 9):  # a case with several follow-ups costs what one with none does
        current = version(text(caseworker.get(BASE)))
        due = (date.today() + timedelta(days=days)).isoformat()
        added = {"version": current, "due_on": due, "note": f"In {days} days.", "owner": "caseworker"}
        assert caseworker.post(f"{BASE}/follow-ups", added).status_code == 303

    for browser in (caseworker, login("supervisor")):  # the supervisor's tab also lists whom to reassign to
        with transactions(demo.engine) as seen:
            page = text(browser.get(BASE))
        assert "In -4 days." in page and "In 9 days." in page
        written = [statements for statements in seen if writes(statements)]
        assert len(written) == 1, "the view's audit event commits with the page's read, in one transaction"
        (tab,) = written
        assert any("ctm_audit_event" in s and s.lstrip().upper().startswith("INSERT") for s in tab)
        assert sum("ctm_case.case_number" in s for s in tab) == 1, "the case is read once"
        assert len(tab) <= MOST + POSTGRESQL_MORE * (demo.engine.dialect.name == "postgresql"), "\n".join(tab)
