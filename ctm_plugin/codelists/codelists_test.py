"""The code lists: the counts the standards fix, stable codes, tiers, translations, CLDR labels."""

from __future__ import annotations

import re

import pytest

from ctm_plugin.codelists import CodeList, all_lists, geo, htcds, process
from ctm_plugin.i18n import translations
from ctm_plugin.testing import in_locale

GEO = {"country", "language"}
STABLE_CODE = re.compile(r"^[A-Za-z0-9_]+$")

# Labels whose French or Spanish word is genuinely the English one; every other label must
# read differently once translated (an unchanged label is an untranslated one).
SAME_WORD = {
    "fr": {
        "Police",  # police
        "Servitude",  # servitude (HTCDS exploitation type)
        "Prostitution",  # prostitution
        "Construction",  # ISIC F
        "Aquaculture",  # ISIC 032
        "Transit",  # event type
        "Exploitation",  # event type
        "Train",  # transport
    },
    "es": set(),
}


def catalog_lists() -> list[CodeList]:
    return [code_list for name, code_list in all_lists().items() if name not in GEO]


# -- what the standards fix ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code_list", "count"),
    [
        (htcds.GENDER, 6),
        (htcds.MARITAL_STATUS, 6),
        (htcds.EDUCATION, 9),
        (htcds.TRAFFICKING_STATUS, 3),
        (htcds.DECIDING_ORGANISATION, 5),
        (htcds.RECRUITMENT_METHOD, 10),
        (htcds.CONTROL_METHOD, 17),
        (htcds.EXPLOITATION_TYPE, 11),
        (htcds.SEXUAL_EXPLOITATION_TYPE, 4),
        (htcds.RECRUITER_RELATIONSHIP, 5),
        (htcds.PERPETRATOR_ROLE, 15),
        (htcds.ORGANISATION_TYPE, 9),
        (htcds.CASE_STATUS, 4),
        (htcds.REFERRAL_REASON, 3),
        (htcds.SUPPORT_PLAN_TYPE, 9),
        (process.EVENT_TYPE, 4),
        (process.PALERMO_ACT, 5),
        (process.PALERMO_MEANS, 8),
        (process.CONSENT_ITEM, 7),
    ],
    ids=lambda value: value.name if isinstance(value, CodeList) else str(value),
)
def test_counts_fixed_by_the_standards(code_list: CodeList, count: int) -> None:
    assert len(code_list) == count


def test_htcds_value_names_are_kept_as_spelt() -> None:
    assert htcds.GENDER.values == (
        "Feminine",
        "Masculine",
        "TransgenderFeminine",
        "TransgenderMasculine",
        "NonConforming",
        "NonSpecifiedUnknown",
    )
    assert "NonPoliceGovernmentalOrganization" in htcds.DECIDING_ORGANISATION
    assert {"RestrictsMovement", "UsesChildren", "ThreatOfLawEnforcement"} <= set(htcds.CONTROL_METHOD.values)
    assert htcds.CASE_STATUS.values == ("Active", "FollowUp", "Closed", "ClosedReferred")


def test_labour_industry_has_the_21_isic_sections() -> None:
    sections = [code for code in htcds.LABOUR_INDUSTRY if code.parent is None]
    assert len(sections) == 21
    assert [code.value[0] for code in sections] == list("ABCDEFGHIJKLMNOPQRSTU")
    assert all(htcds.isic_tier(code.value) == 1 for code in sections)
    assert sections[0].value == "A_AgricultureForestryAndFishing"
    assert sections[-1].value == "U_ActivitiesOfExtraterritorialOrganizations"


def test_labour_industry_tiers_hang_one_tier_below_their_parent() -> None:
    industry = htcds.LABOUR_INDUSTRY
    tiered = [code for code in industry if code.parent is not None]
    assert {"A01", "A011", "A03", "A031", "A032", "C13", "C14", "C15", "H49", "I55", "I56", "N78"} <= {
        code.value for code in tiered
    }
    for code in tiered:
        assert code.parent in industry, code
        assert htcds.isic_tier(code.value) == htcds.isic_tier(code.parent) + 1, code
        assert code.value[0] == code.parent[0], code  # same ISIC section letter
        if htcds.isic_tier(code.value) == 3:
            assert code.value.startswith(code.parent), code


def test_every_service_type_rolls_up_to_a_support_plan_type() -> None:
    for code in htcds.SERVICE_TYPE:
        assert code.extra["htcds"] in htcds.SUPPORT_PLAN_TYPE, code


def test_palermo_purposes_reuse_the_exploitation_types() -> None:
    lists = all_lists()
    assert lists["exploitation_type"] is htcds.EXPLOITATION_TYPE
    assert "palermo_purpose" not in lists
    copies = [name for name, code_list in lists.items() if code_list.values == htcds.EXPLOITATION_TYPE.values]
    assert copies == ["exploitation_type"]


# -- stable codes ----------------------------------------------------------------------------


def test_all_lists_are_named_and_distinct() -> None:
    lists = all_lists()
    assert all(name == code_list.name for name, code_list in lists.items())
    assert len({id(code_list) for code_list in lists.values()}) == len(lists)
    assert {"gender", "labour_industry", "service_type", "event_type", "consent_item", "country", "language"} <= set(
        lists
    )


@pytest.mark.parametrize("code_list", list(all_lists().values()), ids=lambda code_list: code_list.name)
def test_codes_are_unique_stable_identifiers(code_list: CodeList) -> None:
    assert len(code_list) > 0
    assert len(set(code_list.values)) == len(code_list.values)
    bad = [value for value in code_list.values if not STABLE_CODE.match(value)]
    assert not bad, bad
    assert all(code.label for code in code_list)


# -- translations ----------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["fr", "es"])
def test_every_label_is_translated(lang: str) -> None:
    gettext = translations(lang).gettext
    untranslated = []
    for code_list in catalog_lists():
        for code in code_list:
            text = gettext(code.label)
            if not text.strip() or (text == code.label and code.label not in SAME_WORD[lang]):
                untranslated.append(f"{code_list.name}.{code.value}: {code.label!r}")
    assert not untranslated, "\n".join(untranslated)


@pytest.mark.parametrize("lang", ["fr", "es"])
def test_the_allow_list_holds_only_labels_that_are_the_same_word(lang: str) -> None:
    labels = {code.label for code_list in catalog_lists() for code in code_list}
    for label in SAME_WORD[lang]:
        assert label in labels, f"{label!r} is no longer a label: drop it from SAME_WORD"
        assert translations(lang).gettext(label) == label, f"{label!r} now translates: drop it from SAME_WORD"


def test_labels_follow_the_request_locale() -> None:
    assert htcds.EXPLOITATION_TYPE.label("ForcedLabour") == "Forced labour"
    with in_locale("fr"):
        assert htcds.EXPLOITATION_TYPE.label("ForcedLabour") == "Travail forcé"
        assert dict(htcds.CASE_STATUS.choices())["Closed"] == "Clos"
    with in_locale("es"):
        assert htcds.EXPLOITATION_TYPE.label("ForcedLabour") == "Trabajo forzoso"
    assert htcds.EXPLOITATION_TYPE.label("NoSuchCode") == "—"
    assert htcds.EXPLOITATION_TYPE.label(None) == "—"


# -- countries and languages (CLDR) ----------------------------------------------------------


def test_countries_are_iso_alpha3_in_english_order() -> None:
    assert len(geo.COUNTRY) == 249
    assert {"THA", "KHM", "MDA", "MMR"} <= set(geo.COUNTRY.values)
    assert all(len(value) == 3 and value.isupper() for value in geo.COUNTRY.values)
    assert geo.COUNTRY.label("THA") == "Thailand"
    assert geo.COUNTRY.codes[0].label == "Afghanistan"


def test_country_labels_come_from_cldr_in_the_current_language() -> None:
    with in_locale("fr"):
        assert geo.COUNTRY.label("THA") == "Thaïlande"
        assert geo.COUNTRY.label("KHM") == "Cambodge"
        choices = geo.COUNTRY.choices()
        assert dict(choices)["MDA"] == "Moldavie"
        # ordered by the French names, accents ignored: Égypte sorts among the E's
        names = [name for _, name in choices]
        assert names.index("Égypte") < names.index("Espagne") < names.index("États-Unis")
    with in_locale("es"):
        assert geo.COUNTRY.label("THA") == "Tailandia"
        assert geo.COUNTRY.label("MMR").startswith("Myanmar")


@pytest.mark.parametrize(("a3", "a2"), [("THA", "TH"), ("KHM", "KH"), ("MDA", "MD"), ("MMR", "MM"), ("FRA", "FR")])
def test_alpha2_alpha3_round_trip(a3: str, a2: str) -> None:
    assert geo.alpha2(a3) == a2
    assert geo.alpha3(a2) == a3
    assert geo.alpha3(a2.lower()) == a3


def test_alpha_conversions_cover_every_country() -> None:
    for value in geo.COUNTRY.values:
        assert geo.alpha3(geo.alpha2(value)) == value
    with pytest.raises(KeyError):
        geo.alpha2("XXX")


def test_languages_are_iso_639_2_terminological_codes() -> None:
    wanted = {"khm", "mya", "tha", "ron", "eng", "fra", "spa"}
    assert wanted <= set(geo.LANGUAGE.values)
    assert not {"bur", "rum", "fre"} & set(geo.LANGUAGE.values)  # the bibliographic codes
    assert geo.LANGUAGE.label("khm") == "Khmer"
    with in_locale("fr"):
        labels = {value: geo.LANGUAGE.label(value) for value in wanted}
    assert labels == {
        "khm": "khmer",
        "mya": "birman",
        "tha": "thaï",
        "ron": "roumain",
        "eng": "anglais",
        "fra": "français",
        "spa": "espagnol",
    }
    with in_locale("es"):
        assert geo.LANGUAGE.label("spa") == "español"
