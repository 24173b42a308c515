"""The plugin's fixtures: the demo seen through its users."""

from __future__ import annotations

import pytest
from world import World


@pytest.fixture
def w(demo) -> World:  # noqa: ANN001 - a Runtime
    return World(demo)


@pytest.fixture
def connected(live_host):  # noqa: ANN001, ANN201 - the host over HTTP
    """The demo's CTM missions pointed at the live host's SOAP services (as ``make demo`` does)."""
    import sqlalchemy as sa

    from ctm_plugin.domain.models import MissionActivation

    with live_host.rt.factory() as s, s.begin():
        for activation in s.scalars(sa.select(MissionActivation)):
            activation.soap_base_url = live_host.base_url
    return live_host
