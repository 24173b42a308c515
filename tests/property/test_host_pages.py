"""Any value in any part of a URL, in the beneficiary search and in the host's own forms (login,
language, a plugin's settings): never a server error, and a refusal saves nothing."""

from __future__ import annotations

from urllib.parse import quote, urlencode

from hypothesis import given
from hypothesis import strategies as st
from property_helpers import EXAMPLES, hostile_text, snapshot

from ctm_plugin.schemas.mission_settings import MissionSettingsSchema
from mimosa_host.models import SignInThrottle

SAMPLE = {
    "mission": "THA",
    "record_type": "beneficiary",
    "record_ref": "BEN-1000001",
    "ref": "BEN-1000001",
    "name": "ctm",
    "event_id": "1",
    "consent_id": "1",
    "message_id": "1",
    "case_id": "1",
}


def test_any_value_in_any_part_of_any_url_is_answered(app, login) -> None:  # noqa: ANN001
    """Every GET route of the host and the CT, each argument and the query string set to anything."""
    browser = login("hq")
    rules = [rule for rule in app.url_map.iter_rules() if "GET" in rule.methods and rule.endpoint != "static"]

    @EXAMPLES
    @given(rule=st.sampled_from(rules), data=st.data())
    def get_anything(rule, data: st.DataObject) -> None:  # noqa: ANN001
        path = rule.rule
        for name in rule.arguments:
            hostile = data.draw(st.booleans(), label=f"{name} hostile?")
            value = data.draw(hostile_text(), label=name) if hostile else SAMPLE.get(name, "THA")
            path = _fill(path, name, quote(value, safe=""))
        query = data.draw(st.dictionaries(st.sampled_from(["q", "page", "status", "next", "x"]), hostile_text()))
        response = browser.get(f"{path}?{urlencode(query)}")
        assert response.status_code < 500, (path, query, response.status_code)

    get_anything()


def _fill(path: str, name: str, value: str) -> str:
    """``path`` with its ``<converter...:name>`` argument replaced by ``value``."""
    start = path.find("<")
    while start >= 0:
        end = path.index(">", start)
        if path[start + 1 : end].split(":")[-1] == name:
            return path[:start] + value + path[end + 1 :]
        start = path.find("<", end)
    return path


def test_any_search_and_page_of_the_beneficiary_list_is_answered(app, login) -> None:  # noqa: ANN001
    browser = login("caseworker")

    @EXAMPLES
    @given(q=hostile_text(), page=st.one_of(hostile_text(), st.integers().map(str)))
    def search(q: str, page: str) -> None:
        response = browser.get("/m/THA/beneficiaries?" + urlencode({"q": q, "page": page}))
        assert response.status_code in (200, 400), response.status_code
        if response.status_code == 400:
            assert 'class="field-error" id="q-error"' in response.get_data(as_text=True)

    search()


def test_any_login_or_language_is_answered(app, web) -> None:  # noqa: ANN001
    engine = app.extensions["mimosa"].engine

    @EXAMPLES
    @given(
        form=st.sampled_from(["/login", "/locale"]),
        values=st.fixed_dictionaries({}, optional={k: hostile_text() for k in ("username", "password", "locale")}),
        next_=hostile_text(),
    )
    def post(form: str, values: dict[str, str], next_: str) -> None:
        web.get("/login")
        before = snapshot(engine, skip=frozenset({SignInThrottle.__tablename__}))  # failed logins are counted
        response = web.post(f"{form}?{urlencode({'next': next_})}", {**values, "next": next_})
        assert response.status_code in (200, 302, 401), response.status_code
        assert snapshot(engine, skip=frozenset({SignInThrottle.__tablename__})) == before

    post()


def test_any_value_in_a_plugins_settings_form_is_answered_and_a_refusal_saves_nothing(app, login) -> None:  # noqa: ANN001
    browser = login("admin")
    engine = app.extensions["mimosa"].engine
    names = [*MissionSettingsSchema().fields, "unknown"]
    valid = {
        "soap_base_url": "https://mimosa.example/",
        "soap_username": "ctm-tha",
        "soap_password": "p",
        "case_number_prefix": "THA-CT",
    }

    @EXAMPLES
    @given(changes=st.dictionaries(st.sampled_from(names), hostile_text(), min_size=1, max_size=2))
    def post(changes: dict[str, str]) -> None:
        browser.get("/m/THA/admin/plugins/ctm")
        before = snapshot(engine)
        response = browser.post("/m/THA/admin/plugins/ctm", {**valid, **changes})
        assert response.status_code in (302, 422), response.status_code
        if response.status_code == 422:
            assert snapshot(engine) == before, changes

    post()
