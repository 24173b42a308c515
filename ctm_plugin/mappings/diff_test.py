"""What a diff of two mappings says."""

from __future__ import annotations

from ctm_plugin.mappings.diff import diff
from ctm_plugin.mappings.engine import DEFAULT_DIR, default_mappings, effective_mappings, parse_mapping

BENEFICIARY = (DEFAULT_DIR / "beneficiary.toml").read_text()


def test_a_mapping_does_not_differ_from_itself():
    mapping = default_mappings()["beneficiary"]
    assert diff(mapping, mapping) == []
    assert diff(mapping, parse_mapping(BENEFICIARY, "copy.toml")) == []


def test_a_diff_names_the_version_and_every_field_added_removed_or_changed():
    text = (
        BENEFICIARY.replace("version = 1", "version = 2")
        .replace('X = "NonConforming", ', "")
        .replace('[fields.middle_name]\nxpath = ["m:Name/m:MiddleName"]\ndirection = "both"\n', "")
        .replace(
            '[fields.project_code]\nxpath = ["m:ProjectCode"]',
            '[fields.project_code]\nxpath = ["m:ProjectCode", "m:Project"]',
        )
        .replace('[fields.documents.parts.expires]\nxpath = ["@expires"]\nconverter = "date"\n', "")
        .replace('xpath = ["@number"]\ncardinality = "required"', 'xpath = ["@number"]')
    )
    before = default_mappings()["beneficiary"]
    after = parse_mapping(text, "v2.toml")
    lines = diff(before, after)
    assert lines == [
        "version: 1 → 2",
        "- middle_name: removed",
        '~ gender.codes: {"F": "Feminine", "M": "Masculine", "U": "NonSpecifiedUnknown", "X": "NonConforming"}'
        ' → {"F": "Feminine", "M": "Masculine", "U": "NonSpecifiedUnknown"}',
        '~ documents.parts.number.cardinality: "required" → "optional"',
        '~ documents.parts.expires: {"cardinality": "optional", "converter": "date", "direction": "both",'
        ' "xpath": ["@expires"]} → —',
        '~ project_code.xpath: ["m:ProjectCode"] → ["m:ProjectCode", "m:Project"]',
    ]
    assert diff(after, before)[-1] == "+ middle_name: added"


def test_a_diff_shows_what_an_override_changes():
    overrides = '[movement]\nversion = 4\n[movement.fields.escort]\nxpath = ["m:Escort/@type"]\ndirection = "both"\n'
    lines = diff(default_mappings()["movement"], effective_mappings(overrides)["movement"])
    assert lines == ["version: 2 → 2+m4", '~ escort.cardinality: "required" → "optional"']


def test_a_changed_default_shows():
    text = BENEFICIARY.replace('default = "false"', 'default = "true"')
    lines = diff(default_mappings()["beneficiary"], parse_mapping(text))
    assert lines == ['~ birth_date_precision.default: "false" → "true"']
