"""``make bench`` (``python -m benchmarks``): every benchmark in full; ``python -m benchmarks [--quick] NAME...``
runs the ones named, ``--quick`` at a size that takes under 90 s each (SQLite only, fewer rows and runs).

Each benchmark prints its figures beside a baseline measured in the same run, then, as its last line, one JSON
object: ``{"name", "value", "unit", "baseline", "baseline_value", "ratio"}`` (``ratio`` = value / baseline
value). The machine is shared: compare within one run, never across runs.

- ``dispatch`` (:mod:`benchmarks.machinery`): the per-mission hook dispatch beside pluggy's plain call; a
  beneficiary page with the CT tab beside the same page without the CTM.
- ``case_tab`` (:mod:`benchmarks.case_overview`): the CT case tab at 100,000 cases beside the host's own tab.
- ``case_list`` (:mod:`benchmarks.case_list`): the list's queries at 100,000 cases beside the same at 1,000.
- ``mapping``, ``pull``, ``relay``, ``latency`` (:mod:`benchmarks.sync`): mapping host records beside zeep;
  pulling beneficiaries beside the raw pages; relaying bookings beside a plain client, on the reference host
  and on the lax contract host (the headline: issue 13's goal is set against it); a lone booking's commit to
  BOOKED beside one plain booking call.
- ``concurrency`` (:mod:`benchmarks.concurrency`): 60 users on the CT tab over HTTP beside one.
- ``sealing`` (:mod:`benchmarks.sealing`): the case tab sealed beside the same over plaintext.
- ``trends`` (:mod:`benchmarks.trends`): the trends page's suppressed tables from the pre-computed counts at
  1,000,000 cases on PostgreSQL (quick: 50,000; seeded by COPY into a kept template database) beside a plain
  GROUP BY of one chart over the cases.
- ``export`` (:mod:`benchmarks.research_export`): the CTDC research export of 200,000 cases with k-anonymity
  verified (goal: 5 s) beside a plain SELECT of the same rows into CSV.
- ``intelligence`` (:mod:`benchmarks.intelligence`): the intelligence pages' read at 5,000 cases of a mission
  (aliases opened, cases linked) beside a plain SELECT of the same rows; the network page beside it.
- ``load`` (:mod:`benchmarks.load`): Locust's caseworkers and movement officers on ``mimosa-host serve`` and
  PostgreSQL (50 users for 2 minutes; quick: 10 for 30 s) beside one user alone.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from benchmarks import (
    case_list,
    case_overview,
    concurrency,
    intelligence,
    load,
    machinery,
    research_export,
    sealing,
    sync,
    trends,
)
from benchmarks.harness import Result

BENCHMARKS: dict[str, Callable[[bool], Result]] = {
    "dispatch": machinery.run,
    "case_tab": case_overview.run,
    "case_list": case_list.run,
    "mapping": sync.run_mapping,
    "pull": sync.run_pull,
    "relay": sync.run_relay,
    "latency": sync.run_latency,
    "concurrency": concurrency.run,
    "sealing": sealing.run,
    "load": load.run,
    "trends": trends.run,
    "export": research_export.run,
    "intelligence": intelligence.run,
}


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a size that takes under 90 s per benchmark")
    parser.add_argument("names", nargs="*", metavar="NAME", help=f"of: {', '.join(BENCHMARKS)} (default: all)")
    args = parser.parse_args(argv)
    unknown = [name for name in args.names if name not in BENCHMARKS]
    if unknown:
        parser.error(f"no benchmark {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}")
    for name in args.names or BENCHMARKS:
        result = BENCHMARKS[name](args.quick)
        print(result.line(), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
