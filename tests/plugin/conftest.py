"""The plugin's fixtures: the demo seen through its users, and the hosts it exchanges with."""

from __future__ import annotations

import pytest
from exchange_hosts import ContractExchange, ReferenceHost, point_ctm_missions_at, seeded_store
from world import World


@pytest.fixture
def w(demo) -> World:  # noqa: ANN001 - a Runtime
    return World(demo)


@pytest.fixture
def connected(live_host):  # noqa: ANN001, ANN201 - the host over HTTP
    """The demo's CTM missions set to reach the live reference host's SOAP services."""
    point_ctm_missions_at(live_host.rt, live_host.base_url)
    return live_host


@pytest.fixture(params=["reference", "contract"])
def exchange_host(request: pytest.FixtureRequest, demo):  # noqa: ANN001, ANN201 - a Runtime
    """The demo's CTM missions connected to one of two hosts over HTTP, with the same API users:
    the reference host, or the contract host (``tests/contract_host``) seeded with the demo's records.
    A :class:`exchange_hosts.ReferenceHost` or :class:`exchange_hosts.ContractExchange`."""
    if request.param == "reference":
        host = ReferenceHost(request.getfixturevalue("live_host"))
    else:
        from contract_host.server import ContractHost

        contract = ContractHost(seeded_store(demo)).start()
        contract.framing = "mixed"  # chunked and close-delimited answers, in turn
        request.addfinalizer(contract.stop)
        host = ContractExchange(contract)
    point_ctm_missions_at(demo, host.base_url)
    return host
