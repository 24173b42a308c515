"""The integrators' mapping page: holders of ``ctm.mapping.manage`` read and save a mission's overrides.

Driven through the Flask test client as an integrator would: a good document is put in force
as a new revision and audited; a bad one is refused naming its file, field and line, in the
reader's language, and the one in force stays; everyone else gets 404.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from markupsafe import escape
from page_parts import text

from ctm_plugin import i18n
from ctm_plugin.domain.audit import AuditEvent
from ctm_plugin.domain.models import MappingOverride
from ctm_plugin.mappings.engine import MappingError, effective_mappings
from ctm_plugin.testing import in_locale

MAPPINGS = "/m/THA/plugins/ctm/mappings"
GOOD = (
    "[beneficiary]\nversion = 2\n\n[beneficiary.fields.citizenships]\n"
    'xpath = ["m:Nationality"]\ncardinality = "many"\nconverter = "country_alpha3"\n'
)
BAD = GOOD.replace("country_alpha3", "country_alpha9")


def words(locale: str, msgid: str, **params: object) -> str:
    translated = i18n.translations(locale).gettext(msgid)
    return str(escape(translated % params if params else translated))


def saved(demo) -> list[tuple[str, int, str, str]]:  # noqa: ANN001
    with demo.factory() as s:
        rows = s.execute(
            sa.select(
                MappingOverride.mission_code,
                MappingOverride.revision,
                MappingOverride.document,
                MappingOverride.saved_by,
            ).order_by(MappingOverride.id)
        )
        return [tuple(row) for row in rows]


def test_the_integrator_finds_the_page_in_the_menu_with_the_defaults_in_force(login):
    integrator = login("integrator")
    landing = text(integrator.get("/m/THA/beneficiaries"))
    assert f'href="{MAPPINGS}" data-menu="ctm.mappings"' in landing
    page = text(integrator.get(MAPPINGS))
    assert 'data-mapping="beneficiary">version 1<' in page and 'data-mapping="movement">version 2<' in page
    assert "None: the default mappings are in force." in page
    assert "No override has been saved in this mission." in page


def test_a_good_override_is_put_in_force_as_a_new_revision_and_audited(login, demo):
    integrator = login("integrator")
    integrator.get(MAPPINGS)
    response = integrator.post(MAPPINGS, {"document": GOOD.replace("\n", "\r\n")})
    assert response.status_code == 303
    page = text(integrator.get(MAPPINGS))
    assert "The overrides are saved: revision 1 is in force." in page
    assert 'data-mapping="beneficiary">version 1+m2<' in page
    assert 'data-revision="1"' in page and "revision 1, saved by integrator on" in page
    assert escape('converter = "country_alpha3"') in page  # the document in force, ready to edit
    assert saved(demo) == [("THA", 1, GOOD.strip(), "integrator")]
    with demo.factory() as s:
        assert s.scalars(sa.select(AuditEvent.action).where(AuditEvent.action == "mapping.override")).all() == [
            "mapping.override"
        ]
    # Back to the defaults: an empty document is a revision too.
    assert integrator.post(MAPPINGS, {"document": ""}).status_code == 303
    page = text(integrator.get(MAPPINGS))
    assert 'data-mapping="beneficiary">version 1<' in page and 'data-revision="2"' in page
    assert [row[1:3] for row in saved(demo)] == [(1, GOOD.strip()), (2, "")]


@pytest.mark.parametrize("locale", ["en", "fr", "es"])
def test_a_bad_override_is_refused_naming_file_field_and_line_and_the_one_in_force_stays(login, demo, locale):
    integrator = login("integrator")
    integrator.get(MAPPINGS)
    integrator.post(MAPPINGS, {"document": GOOD})
    response = integrator.post(MAPPINGS, {"document": BAD}, headers={"Accept-Language": locale})
    assert response.status_code == 422
    page = text(response)
    with in_locale(locale):
        with pytest.raises(MappingError) as caught:
            effective_mappings(BAD)
        problem = str(caught.value.problems[0])  # in the reader's language
    assert problem.startswith("mapping_overrides:7: beneficiary.fields.citizenships.converter: ")
    assert f"<li>{escape(problem)}</li>" in page
    assert escape('converter = "country_alpha9"') in page  # what the integrator typed stays to be fixed
    assert words(locale, "Mappings with the host") in page
    assert 'data-mapping="beneficiary">' + words(locale, "version %(version)s", version="1+m2") in page
    assert [row[1] for row in saved(demo)] == [1]  # nothing saved: the good one is in force


def test_a_document_that_is_not_toml_or_not_a_mapping_is_refused_without_a_server_error(login, demo):
    integrator = login("integrator")
    integrator.get(MAPPINGS)
    for document in ("[beneficiary\nversion = 1", "x = 1", "[movement]\nversion = 0\n"):
        response = integrator.post(MAPPINGS, {"document": document})
        assert response.status_code == 422, document
        assert 'id="err-overrides-document"' in text(response)
    assert saved(demo) == []


@pytest.mark.parametrize("username", ["caseworker", "movement", "auditor", "admin"])
def test_who_may_not_manage_mappings_gets_404_and_no_menu_entry(login, demo, username):
    browser = login(username)
    landing = text(browser.get("/m/THA/beneficiaries"))
    assert 'data-menu="ctm.mappings"' not in landing
    assert browser.get(MAPPINGS).status_code == 404
    assert browser.post(MAPPINGS, {"document": GOOD}).status_code == 404
    assert saved(demo) == []


def test_the_page_is_not_there_where_the_ctm_is_not_enabled(login):
    integrator = login("integrator")
    integrator.get("/m/MDA/beneficiaries")
    assert integrator.get("/m/MDA/plugins/ctm/mappings").status_code == 404


def test_each_mission_has_its_own_overrides(login, demo):
    integrator = login("integrator")
    integrator.get(MAPPINGS)
    assert integrator.post(MAPPINGS, {"document": GOOD}).status_code == 303
    khm = text(integrator.get("/m/KHM/plugins/ctm/mappings"))
    assert 'data-mapping="beneficiary">version 1<' in khm and "No override has been saved in this mission." in khm
    assert [row[0] for row in saved(demo)] == ["THA"]
