"""The functions behind ``ctm mappings validate|test|diff``: exit codes and the lines they print."""

from __future__ import annotations

from pathlib import Path

import pytest

from ctm_plugin.mappings import tools
from ctm_plugin.mappings.engine import DEFAULT_DIR
from ctm_plugin.mappings.records import NS

TESTDATA = Path(__file__).parent / "testdata"
BENEFICIARY = DEFAULT_DIR / "beneficiary.toml"
MOVEMENT = DEFAULT_DIR / "movement.toml"
OVERRIDES = """\
[beneficiary]
version = 2

[beneficiary.fields.gender]
xpath = ["m:Sex"]
cardinality = "required"
direction = "both"
converter = "codes"
codes = { W = "Feminine", M = "Masculine", X = "NonConforming", U = "NonSpecifiedUnknown" }
"""


@pytest.fixture
def files(tmp_path: Path):
    def write(name: str, text: str) -> Path:
        path = tmp_path / name
        path.write_text(text)
        return path

    return write


def test_validate_checks_the_defaults_without_arguments():
    code, lines = tools.validate()
    assert code == 0
    assert lines == [
        f"{BENEFICIARY}: the beneficiary mapping, version 1, is valid.",
        f"{MOVEMENT}: the movement mapping, version 2, is valid.",
    ]


def test_validate_reports_every_problem_of_every_file(files):
    bad = files(
        "bad.toml", BENEFICIARY.read_text().replace('["m:Sex"]', '["//m:Sex"]').replace("version = 1", "version = 0")
    )
    overrides = files("tha.toml", OVERRIDES)
    code, lines = tools.validate([BENEFICIARY, bad, overrides, files("odd.toml", "[beneficiary\n")])
    assert code == 1
    assert lines[0].endswith("is valid.")
    assert lines[1] == f"{bad}:7: mapping.version: The version is a whole number from 1 to 999999."
    assert lines[2] == f"{overrides}: the beneficiary mapping, version 1+m2, is valid."
    assert lines[3].startswith(f"{files('odd.toml', '[beneficiary')}:1: The file is not valid TOML: ")


def test_validate_checks_field_problems_once_the_header_is_right(files):
    bad = files("bad.toml", BENEFICIARY.read_text().replace('["m:Sex"]', '["//m:Sex"]'))
    code, lines = tools.validate([bad])
    assert code == 1
    assert lines == [
        f"{bad}:34: fields.gender.xpath: //m:Sex uses more than a mapping may: child steps (m:Name),"
        " [n] or [@name='value'] predicates, and an @attribute last."
    ]


def test_validate_says_when_a_file_cannot_be_read(tmp_path):
    code, lines = tools.validate([tmp_path / "missing.toml"])
    assert (code, lines) == (1, [f"{tmp_path / 'missing.toml'}: cannot be read (FileNotFoundError)."])


@pytest.mark.parametrize("sample", ["beneficiary.xml", "get_beneficiary_response.xml"])
def test_test_prints_the_mapped_record_sorted(sample):
    code, lines = tools.test(BENEFICIARY, (TESTDATA / sample).read_bytes())
    assert code == 0
    assert lines[0] == f"{BENEFICIARY}: the beneficiary mapping, version 1, read the sample's Beneficiary:"
    assert lines[1:] == sorted(lines[1:])
    assert "gender = Feminine" in lines or "gender = Masculine" in lines


def test_test_shows_parts_lists_and_missing_values():
    code, lines = tools.test(BENEFICIARY, (TESTDATA / "beneficiary.xml").read_bytes())
    assert code == 0
    for line in (
        "birth_date = 1998-01-01",
        "birth_date_precision = Year",
        "documents[1].number = C1234567",
        "documents[2].expires = —",
        "languages = [vie, tha]",
        "last_modified = 2026-03-02T08:15:00+00:00",
        "middle_name = —",
        "record_version = 4",
    ):
        assert line in lines


def test_test_maps_a_movement_in_an_envelope():
    code, lines = tools.test(MOVEMENT, (TESTDATA / "get_movement_response.xml").read_bytes())
    assert code == 0
    assert "legs[1].flight_number = VN606" in lines
    assert "fit_to_travel = true" in lines


def test_test_with_an_override_document_maps_with_the_mission_mapping(files):
    sample = (TESTDATA / "beneficiary.xml").read_bytes().replace(b"<Sex>F</Sex>", b"<Sex>W</Sex>")
    code, lines = tools.test(files("tha.toml", OVERRIDES), sample)
    assert code == 0
    assert "version 1+m2" in lines[0]
    assert "gender = Feminine" in lines


def test_test_prints_the_errors_and_fails():
    sample = (TESTDATA / "beneficiary.xml").read_bytes().replace(b"<Sex>F</Sex>", b"<Sex>W</Sex>")
    code, lines = tools.test(BENEFICIARY, sample)
    assert code == 1
    assert lines[-1] == "error: gender (m:Sex): W is not in the field's code table."
    assert "gender = —" in lines


def test_test_says_when_the_sample_holds_no_record():
    code, lines = tools.test(BENEFICIARY, (TESTDATA / "get_movement_response.xml").read_bytes())
    assert (code, lines) == (1, ["The sample holds no Beneficiary element."])


def test_test_refuses_a_hostile_sample_and_reads_nothing_it_names(tmp_path):
    canary = tmp_path / "canary.txt"
    canary.write_text("CANARY-never-read")
    sample = f'<!DOCTYPE b [<!ENTITY x SYSTEM "{canary.as_uri()}">]><Beneficiary xmlns="{NS}">&x;</Beneficiary>'
    code, lines = tools.test(BENEFICIARY, sample.encode())
    assert code == 1
    assert lines == [
        "The sample was refused: The XML carries a DOCTYPE or an entity declaration, which are not accepted."
    ]
    assert "CANARY" not in "".join(lines)


def test_test_of_a_bad_mapping_prints_its_problems(files, tmp_path):
    code, lines = tools.test(files("bad.toml", "[mapping]\n"), (TESTDATA / "beneficiary.xml").read_bytes())
    assert code == 1
    assert lines == [
        f"{tmp_path}/bad.toml: fields: This key is required.",
        f"{tmp_path}/bad.toml:1: mapping.id: This key is required.",
        f"{tmp_path}/bad.toml:1: mapping.version: This key is required.",
    ]


def test_diff_of_a_file_with_itself_finds_nothing():
    assert tools.diff(BENEFICIARY, BENEFICIARY) == (0, ["No differences."])


def test_diff_lists_the_changes(files):
    changed = files("v2.toml", BENEFICIARY.read_text().replace("version = 1", "version = 2"))
    assert tools.diff(BENEFICIARY, changed) == (1, ["version: 1 → 2"])


def test_diff_of_a_default_and_an_override_document(files):
    code, lines = tools.diff(BENEFICIARY, files("tha.toml", OVERRIDES))
    assert code == 1
    assert lines[0] == "version: 1 → 1+m2"
    assert lines[1].startswith('~ gender.codes: {"F": "Feminine"')


def test_diff_pairs_mappings_by_id_across_override_documents(files):
    movement = '[movement]\nversion = 1\n[movement.fields.escort]\nxpath = ["m:Escort/@type"]\ndirection = "both"\n'
    a, b = files("a.toml", OVERRIDES), files("b.toml", OVERRIDES + "\n" + movement)
    assert tools.diff(a, b) == (1, [f"movement: only in {b}"])


def test_diff_of_a_bad_file_exits_2(files):
    code, lines = tools.diff(BENEFICIARY, files("bad.toml", "[mapping]\nid = 1\n"))
    assert code == 2
    assert any(line.endswith(":2: mapping.id: Expected text.") for line in lines)


def test_diff_of_a_file_that_is_not_utf8_exits_2(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_bytes(b"\xff\xfe[mapping]\n")
    code, lines = tools.diff(BENEFICIARY, bad)
    assert code == 2
    assert lines[0].endswith("cannot be read (UnicodeDecodeError).")
