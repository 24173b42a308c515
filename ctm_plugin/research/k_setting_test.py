import pytest

from ctm_plugin.research import SMALL_CELL_K, small_cell_k


def test_k_is_eleven_unless_the_deployment_raises_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CTM_RESEARCH_K", raising=False)
    assert small_cell_k() == SMALL_CELL_K == 11
    monkeypatch.setenv("CTM_RESEARCH_K", "20")
    assert small_cell_k() == 20


@pytest.mark.parametrize("text", ["1", "0", "-5", "eleven", "3.5"])
def test_a_k_that_would_publish_small_cells_is_refused_not_read_as_smaller(
    monkeypatch: pytest.MonkeyPatch, text: str
) -> None:
    monkeypatch.setenv("CTM_RESEARCH_K", text)
    with pytest.raises(ValueError, match="CTM_RESEARCH_K"):
        small_cell_k()
