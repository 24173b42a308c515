"""Research: numbers leave the CTM only through small-cell suppression, microdata only through an approved,
k-anonymous export (DESIGN.md, "HQ scope"). One k for every mission, since trends and exports cross missions."""

from __future__ import annotations

import os

SMALL_CELL_K = 11
"""The CTDC's k: a count below it is never shown, and every exported combination of quasi-identifiers occurs at
least this often."""
MIN_K = 2


def small_cell_k() -> int:
    """The k in force: ``CTM_RESEARCH_K`` in the environment (a whole number of at least :data:`MIN_K`; raising it
    is a deployment's choice), else :data:`SMALL_CELL_K`. A value that is not one is refused, never read as a
    smaller k."""
    text = os.environ.get("CTM_RESEARCH_K", "").strip()
    if not text:
        return SMALL_CELL_K
    if not text.isdigit() or int(text) < MIN_K:
        raise ValueError(f"CTM_RESEARCH_K must be a whole number of at least {MIN_K}, not {text!r}")
    return int(text)
