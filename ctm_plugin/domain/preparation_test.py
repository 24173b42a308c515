from datetime import date

import pytest

from ctm_plugin.domain.preparation import ReturnPreparation, is_child, missing_items


@pytest.mark.parametrize(
    ("birth", "precision", "signs", "child"),
    [
        (date(2008, 6, 1), "Day", False, True),  # 17 on 2026-05-31
        (date(2008, 5, 31), "Day", False, False),  # 18 that day
        (date(2008, 1, 1), "Year", False, True),  # born some day of 2008: perhaps still 17
        (date(2008, 5, 1), "Month", False, False),  # born in May 2008: 18 by the 31st
        (None, None, True, True),  # age unknown, signs of minority: presumed a child
        (None, None, False, False),
        (date(2008, 6, 1), "Unknown", True, True),
    ],
)
def test_who_is_a_child_on_the_departure(birth, precision, signs, child):  # noqa: ANN001
    assert is_child(birth, precision, signs, date(2026, 5, 31)) is child


def test_a_child_needs_every_safeguard_whatever_the_mission_requires():
    missing = missing_items(None, frozenset(), child=True, departure=date(2026, 5, 31), consents={"Return"})
    assert missing == [
        "A child: the best-interests determination is not recorded.",
        "A child: a positive family assessment or an alternative care arrangement is needed.",
        "A child: a named escort is needed.",
    ]
    ready = ReturnPreparation(bid_outcome="RETURN", alternative_care="Foster family", escort_name="Synthetic Escort")
    assert missing_items(ready, frozenset(), child=True, departure=date(2026, 5, 31), consents={"Return"}) == []
