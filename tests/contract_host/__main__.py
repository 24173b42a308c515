"""The contract host in a process of its own: ``python -m contract_host RECORDS.json`` (``tests/`` on the path).

Serves a store seeded from ``RECORDS.json`` (``{"api_users": [[username, password, [mission, ...]], ...],
"beneficiaries": [{field: value, ...}, ...]}``, each beneficiary with :class:`store.Beneficiary`'s fields,
dates as ISO text) until it is sent SIGTERM, and prints its base URL as its first line once it listens.
The benchmarks run it so (``benchmarks/sync.py``): the CTM's relay against a host written from the contract
alone, beside the reference host, each in a process of its own.
"""

from __future__ import annotations

import json
import signal
import sys
import threading
from datetime import date

from .server import ContractHost
from .store import Beneficiary, Store


def seeded(records: dict) -> Store:
    seeded_store = Store()
    for username, password, missions in records.get("api_users", []):
        seeded_store.add_api_user(username, password, missions)
    for fields in records.get("beneficiaries", []):
        if fields.get("birth_date"):
            fields = {**fields, "birth_date": date.fromisoformat(fields["birth_date"])}
        seeded_store.put_beneficiary(Beneficiary(**fields))
    return seeded_store


def main(argv: list[str]) -> None:
    if len(argv) != 1:
        sys.exit("usage: python -m contract_host RECORDS.json")
    with open(argv[0], encoding="utf-8") as records:
        host = ContractHost(seeded(json.load(records))).start()
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    print(host.base_url, flush=True)
    stopped.wait()
    host.stop()


if __name__ == "__main__":
    main(sys.argv[1:])
