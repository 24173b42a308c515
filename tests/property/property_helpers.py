"""What the property tests share: hostile values, the state a refusal must leave as it was.

Not a test module, nor a conftest: the property tests import it by name (pytest puts this folder on the path).

Each test function gets one app (one database, seeded once) and runs its examples against it:
hypothesis is told that the function-scoped fixtures are shared on purpose, and every example
either is refused and changes nothing, or is accepted (the next example starts from there).
The example counts are modest; the CI profile (tests/conftest.py) decides how they are drawn.
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from ctm_plugin.domain.audit import AuditChainHead, AuditEvent
from ctm_plugin.domain.models import Base as CtmBase
from ctm_plugin.domain.partner_service import PartnerNonce
from mimosa_host.models import Base as HostBase
from mimosa_host.soap.models import ApiNonce

EXAMPLES = settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
"""For a test whose fixtures (app, database) are made once and shared by its examples."""

SPECIAL = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "\uffff",
    "\ufffe",
    "\x1b[31m",
    "\u202e",
    "\r\n",
    "9" * 60,
    "-1",
    "0",
    "2147483648",
    "-2147483649",
    "9" * 400,
    "1e400",
    "nan",
    "inf",
    "2026-02-30",
    "0001-01-01",
    "9999-12-31",
    "<x/>",
    "]]>",
    "&amp;",
    "%(x)s",
    "{x}",
    "' OR 1=1 --",
    "BEN-1000001",
    "THA",
]


DANGEROUS = ["\x00", "\uffff", "\ufffe", "\x01", "\x1b", "\x7f", "\x85", "\ufdd0"]
"""Characters a database or XML cannot hold, or no one types: what most 500s were made of."""


def _with(text: str, char: str, at: int) -> str:
    at = min(at, len(text))
    return text[:at] + char + text[at:]


def hostile_text() -> st.SearchStrategy[str]:
    """Any text: unicode, control characters, huge, numbers and dates out of range, markup.

    Dangerous characters come often: in a short example run, a uniform draw would hardly meet them.
    """
    return st.one_of(
        st.sampled_from(SPECIAL),
        st.builds(_with, st.text(max_size=20), st.sampled_from(DANGEROUS), st.integers(0, 20)),
        st.builds(_with, st.sampled_from(SPECIAL), st.sampled_from(DANGEROUS), st.integers(0, 3)),
        st.text(max_size=40),
        st.text(st.characters(max_codepoint=0xA0), max_size=20),
        st.integers().map(str),
        st.builds(lambda c, n: c * n, st.sampled_from(["x", "9", "\x00", "é", "\U0001f600"]), st.integers(0, 70_000)),
    )


TRANSIENT = {ApiNonce.__tablename__, PartnerNonce.__tablename__, AuditChainHead.__tablename__}
"""Rows a refused request still writes on purpose: a SOAP request's nonce (the host's, the partner service's),
committed before the operation;
the audit chain's end, which moves with every event, views too (the events themselves are compared)."""


def snapshot(
    engine: sa.Engine, skip: frozenset[str] = frozenset(), recorded: frozenset[str] = frozenset()
) -> dict[str, list[str]]:
    """Every row of every host and CTM table (but ``skip``): a refusal must leave it as it was.

    A refused form shows its page again, and showing a case is audited: views are not changes; nor are the audit
    events of ``recorded`` actions, which a refusal records on purpose (the caller checks those).
    """
    tables = [*HostBase.metadata.sorted_tables, *CtmBase.metadata.sorted_tables]
    audit = AuditEvent.__table__
    changes = sa.and_(~audit.c.action.like("%.view"), audit.c.action.not_in(recorded))
    with engine.connect() as conn:
        return {
            table.name: sorted(map(repr, conn.execute(sa.select(table).where(changes if table is audit else True))))
            for table in tables
            if table.name not in skip | TRANSIENT
        }


def assert_answered(status: int, body: str, before: dict, after: Callable[[], dict], what: object) -> None:
    """Never a server error nor a traceback; a refusal (4xx) leaves every row as it was.

    502 to 504 say the host could not be reached or answered badly: the page says so, as it should.
    """
    assert status < 500 or status in (502, 503, 504), (what, status)
    assert "Traceback" not in body, what
    if 400 <= status < 500:
        assert after() == before, (what, status)
