"""Any value in any of the trends page's filters: the page, or a message by the filter it names; never a server
error, and never a number below k."""

from __future__ import annotations

import html
import re
from urllib.parse import urlencode

from hypothesis import given
from hypothesis import strategies as st
from property_helpers import EXAMPLES, hostile_text

from ctm_plugin.research import small_cell_k

PARAMETERS = ["period", "mission", "exploitation", "from", "to"]
CHOICES = st.sampled_from(["year", "quarter", "THA", "KHM", "MDA", "ForcedLabour", "SexualExploitation", ""])
COUNT = re.compile(r'data-count="([^"]*)"')


def test_any_filter_of_the_trends_is_answered(app, login) -> None:  # noqa: ANN001
    browser = login("researcher")
    k = small_cell_k()

    @EXAMPLES
    @given(query=st.dictionaries(st.sampled_from(PARAMETERS), st.one_of(CHOICES, hostile_text()), max_size=3))
    def trends(query: dict[str, str]) -> None:
        response = browser.get(f"/m/THA/plugins/ctm/trends?{urlencode(query)}")
        assert response.status_code in (200, 400), (query, response.status_code)
        page = response.get_data(as_text=True)
        if response.status_code == 400:
            assert 'class="ctm-error"' in page or 'class="ctm-problem"' in page, query
        counts = [html.unescape(c) for c in COUNT.findall(page)]
        assert not [c for c in counts if c.isdigit() and 0 < int(c) < k], query

    trends()
