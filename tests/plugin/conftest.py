"""The plugin's fixtures: the demo seen through its users."""

from __future__ import annotations

import pytest
from world import World


@pytest.fixture
def w(demo) -> World:  # noqa: ANN001 - a Runtime
    return World(demo)


@pytest.fixture
def connected(live_host):  # noqa: ANN001, ANN201 - the host over HTTP
    """The demo's CTM missions set to reach the live host's SOAP services, as an administrator would."""
    import sqlalchemy as sa

    from mimosa_host import enablement
    from mimosa_host.context import system_context
    from mimosa_host.models import Mission, PluginEnablement

    rt = live_host.rt
    with rt.factory() as s, s.begin():
        for state in s.scalars(sa.select(PluginEnablement).filter_by(plugin_name="ctm", enabled=True)).all():
            ctx = system_context(s, rt.host, rt.factory, s.get(Mission, state.mission_code))
            settings = {**state.settings, "soap_base_url": live_host.base_url}
            enablement.enable(s, rt.host, state.mission_code, "ctm", settings, ctx)
    return live_host
