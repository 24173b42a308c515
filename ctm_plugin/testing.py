"""Test support shared by the ``*_test.py`` modules beside the code (not a test module itself)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from mimosa_host.plugin_api import MissionRef, RequestContext, bind_context, unbind_context


@contextmanager
def in_locale(code: str) -> Iterator[None]:
    """Serve as a request in ``code`` would: the host binds its context, and ``_`` reads its locale."""
    ctx = RequestContext(
        mission=MissionRef("THA", "Thailand", "THA"),
        locale=code,
        permissions=frozenset(),
        session_factory=lambda: None,  # type: ignore[arg-type, return-value] - no database here
    )
    token = bind_context(ctx)
    try:
        yield
    finally:
        unbind_context(token)
