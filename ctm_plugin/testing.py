"""Test support shared by the ``*_test.py`` modules beside the code (not a test module itself)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from mimosa_host.plugin_api import MissionRef, RequestContext, bind_context, unbind_context


@contextmanager
def in_locale(code: str, time_zone: str = "UTC") -> Iterator[None]:
    """Serve as a request in ``code`` would, in a mission on ``time_zone``'s clock: the host binds its
    context, ``_`` reads its locale and moments are shown in its zone."""
    ctx = RequestContext(
        mission=MissionRef("THA", "Thailand", "THA"),
        locale=code,
        permissions=frozenset(),
        session_factory=lambda: None,  # type: ignore[arg-type, return-value] - no database here
        settings={"time_zone": time_zone},
    )
    token = bind_context(ctx)
    try:
        yield
    finally:
        unbind_context(token)
