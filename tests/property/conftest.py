"""The property tests' fixtures; what they share besides is in property_helpers.py."""

from __future__ import annotations

import pytest
import sqlalchemy as sa


@pytest.fixture
def connected_live_host(live_host):  # noqa: ANN001, ANN201 - the host over HTTP
    """The live host with the demo's CTM missions set to reach its own SOAP services."""
    from mimosa_host import enablement
    from mimosa_host.context import system_context
    from mimosa_host.models import Mission, PluginEnablement

    rt = live_host.rt
    with rt.factory() as s, s.begin():
        for state in s.scalars(sa.select(PluginEnablement).filter_by(plugin_name="ctm", enabled=True)).all():
            ctx = system_context(s, rt.host, rt.factory, s.get(Mission, state.mission_code))
            settings_ = {**state.settings, "soap_base_url": live_host.base_url}
            enablement.enable(s, rt.host, state.mission_code, "ctm", settings_, ctx)
    return live_host
