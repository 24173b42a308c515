"""Bad mapping files are refused naming the file, the key path and the line."""

from __future__ import annotations

import pytest

from ctm_plugin.mappings import schema as s
from ctm_plugin.mappings.converters import converters
from ctm_plugin.mappings.engine import DEFAULT_DIR, effective_mappings, parse_mapping
from ctm_plugin.mappings.problems import MAX_DEPTH, TOML_SYNTAX, TOO_DEEP, MappingError, Problem, locate

GOOD = (DEFAULT_DIR / "beneficiary.toml").read_text()
GENDER = """[fields.gender]
xpath = ["m:Sex"]
cardinality = "required"
direction = "both"
converter = "codes"
codes = { F = "Feminine", M = "Masculine", X = "NonConforming", U = "NonSpecifiedUnknown" }
codes_out = { TransgenderFeminine = "X", TransgenderMasculine = "X" }
"""
assert GENDER in GOOD


def line_of(text: str, marker: str) -> int:
    return next(number for number, line in enumerate(text.splitlines(), 1) if marker in line)


def refused(text: str) -> MappingError:
    with pytest.raises(MappingError) as caught:
        parse_mapping(text, "missions/tha.toml")
    return caught.value


def only(error: MappingError) -> Problem:
    assert len(error.problems) == 1, error.problems
    assert error.problems[0].file == "missions/tha.toml"
    return error.problems[0]


def with_gender(table: str) -> str:
    return GOOD.replace(GENDER, table)


def test_the_default_files_load():
    assert parse_mapping(GOOD, "beneficiary.toml").version == "1"


def test_a_toml_syntax_error_names_its_line():
    text = GOOD.replace('converter = "codes"', "converter = codes")
    problem = only(refused(text))
    assert (problem.message, problem.path, problem.line) == (TOML_SYNTAX, "", line_of(text, "converter = codes"))
    assert str(problem).startswith(f"missions/tha.toml:{problem.line}: The file is not valid TOML: ")


def test_an_unknown_top_level_key_is_refused():
    text = GOOD + '\n[extras]\ncolour = "red"\n'
    problem = only(refused(text))
    assert (problem.path, problem.message, problem.line) == ("extras", s.UNKNOWN_KEY, line_of(text, "[extras]"))
    assert str(problem) == f"missions/tha.toml:{problem.line}: extras: Unknown key."


@pytest.mark.parametrize(
    ("header", "path", "message"),
    [
        ('id = "person"', "mapping.id", s.UNKNOWN_RECORD),
        ("version = 0", "mapping.version", s.BAD_VERSION),
        ('version = "1"', "mapping.version", s.BAD_VERSION),
        ("version = true", "mapping.version", s.BAD_VERSION),
        ("version = " + "9" * 60, "mapping.version", s.BAD_VERSION),
        ("version = 1000000", "mapping.version", s.BAD_VERSION),
        ('owner = "me"', "mapping.owner", s.UNKNOWN_KEY),
    ],
)
def test_a_bad_header_is_refused(header, path, message):
    key = header.split(" ")[0]
    text = GOOD.replace(f"{key} = ", f"# {key} = ", 1) if key in ("id", "version") else GOOD
    text = text.replace("[mapping]\n", f"[mapping]\n{header}\n")
    problem = only(refused(text))
    assert (problem.path, problem.message, problem.line) == (path, message, line_of(text, header))


def test_the_largest_versions_fit_the_stamp_the_ctm_keeps():
    overrides = "[beneficiary]\nversion = 999999\n"
    mapping = effective_mappings(overrides)["beneficiary"]
    assert len(mapping.version) <= 40
    assert parse_mapping(GOOD.replace("version = 1\n", "version = 999999\n"), "b.toml").version == "999999"


@pytest.mark.parametrize(
    ("text", "line", "path"),
    [
        ("x = " + "[" * 5000 + "]" * 5000, 1, ""),
        ('# [[[[\ndescription = "[[[["\nx = ' + "{a = " * 40 + "1" + "}" * 40, 3, ""),
        ("[beneficiary]\nversion = 1\n" + "a." * 40 + "b = 1\n", 1, "beneficiary" + ".a" * MAX_DEPTH),
    ],
)
def test_a_document_nested_too_deep_is_refused_naming_the_line(text, line, path):
    for load in (parse_mapping, effective_mappings):
        with pytest.raises(MappingError) as caught:
            load(text, "missions/tha.toml")
        problem = only(caught.value)
        assert (problem.message, problem.line, problem.path) == (TOO_DEEP, line, path)
        assert "nested more than 16 deep" in str(problem)


def test_brackets_in_strings_and_comments_do_not_count_as_nesting():
    deep = "[" * (MAX_DEPTH + 1)
    text = GOOD.replace("[mapping]\n", f"# {deep}\n[mapping]\n").replace(
        'description = "', f'description = "{deep} ', 1
    )
    assert parse_mapping(text, "b.toml").description.startswith(deep)


def test_a_missing_header_key_is_refused():
    problem = only(refused(GOOD.replace("version = 1\n", "")))
    assert (problem.path, problem.message) == ("mapping.version", s.REQUIRED_KEY)


@pytest.mark.parametrize(
    ("extra", "key"),
    [('colour = "red"', "colour"), ('code = { F = "Feminine" }', "code"), ('estimated = "Year"', "estimated")],
)
def test_an_unknown_field_key_is_refused(extra, key):
    text = with_gender(GENDER + extra + "\n")
    problem = only(refused(text))
    assert (problem.path, problem.message, problem.line) == (
        f"fields.gender.{key}",
        s.UNKNOWN_KEY,
        line_of(text, extra),
    )


def test_an_unknown_field_is_refused():
    text = GOOD + '\n[fields.exploitation_types]\nxpath = ["m:Remarks"]\n'
    problem = only(refused(text))
    assert (problem.path, problem.message) == ("fields.exploitation_types", s.UNKNOWN_FIELD)
    assert problem.line == line_of(text, "[fields.exploitation_types]")
    assert str(problem).endswith("A beneficiary mapping has no field exploitation_types.")


def test_a_missing_required_field_is_refused():
    text = GOOD.replace('[fields.family_name]\nxpath = ["m:Name/m:FamilyName"]\ncardinality = "required"\n', "")
    problem = only(refused(text.replace('direction = "both"\n\n[fields.given_name]', "\n[fields.given_name]", 1)))
    assert (problem.path, problem.message, dict(problem.params)) == (
        "fields.family_name",
        s.MISSING_FIELD,
        {"record": "beneficiary", "field": "family_name"},
    )


@pytest.mark.parametrize("xpath", ["m:Sex[", "m:Sex)", "m:Sex[@=1]"])
def test_an_xpath_that_does_not_compile_is_refused(xpath):
    text = with_gender(GENDER.replace('["m:Sex"]', f'["{xpath}"]'))
    problem = only(refused(text))
    assert (problem.path, problem.message, problem.line) == ("fields.gender.xpath", s.BAD_XPATH, line_of(text, xpath))
    assert problem.params == {"xpath": xpath}


@pytest.mark.parametrize(
    "xpath",
    [
        "document('file:///etc/passwd')/x",
        "doc('http://127.0.0.1/')",
        "m:Sex[contains(., 'F')]",
        "//m:Sex",
        "/m:Beneficiary/m:Sex",
        "../m:Sex",
        "m:Name/..",
        "$sex",
        "m:Sex | m:Name",
        "x:Sex",
        "Sex",
        "m:Name/text()",
        "descendant::m:Sex",
        "m:*",
        "m:Sex[last()]",
        "m:Sex[@a=$v]",
        ".",
    ],
)
def test_an_xpath_outside_the_subset_is_refused(xpath):
    text = with_gender(GENDER.replace('["m:Sex"]', f'["m:Sex", "{xpath}"]'))
    problem = only(refused(text))
    assert (problem.path, problem.message) == ("fields.gender.xpath", s.OUTSIDE_SUBSET)
    assert problem.params == {"xpath": xpath}


@pytest.mark.parametrize("xpath", ["m:Sex", "m:Name/m:FamilyName", "@type", "m:Documents/m:Document[2]/@number"])
def test_the_subset_allows_child_steps_attributes_and_simple_predicates(xpath):
    from ctm_plugin.mappings.xpaths import is_safe

    assert is_safe(xpath)
    assert is_safe("m:Documents/m:Document[@type='PASSPORT'][1]/@number")
    assert is_safe('m:Documents/m:Document[@type = "PASSPORT"]/@number')


def test_an_unknown_converter_is_refused():
    text = with_gender(GENDER.replace('converter = "codes"', 'converter = "sex_codes"'))
    problem = only(refused(text))
    assert (problem.path, problem.message, problem.line) == (
        "fields.gender.converter",
        s.UNKNOWN_CONVERTER,
        line_of(text, "sex_codes"),
    )
    assert problem.params == {"converter": "sex_codes", "names": ", ".join(sorted(converters()))}


@pytest.mark.parametrize(
    ("codes", "path", "message"),
    [
        ("codes = {}", "fields.gender.codes", "A code table maps codes to codes: text to text, at least one entry."),
        (
            "codes = { F = 1 }",
            "fields.gender.codes",
            "A code table maps codes to codes: text to text, at least one entry.",
        ),
        ('codes = ["F"]', "fields.gender.codes", "A code table maps codes to codes: text to text, at least one entry."),
        ("", "fields.gender.codes", s.REQUIRED_KEY),
        ('codes = { F = "Woman" }', "fields.gender", s.NOT_A_CTM_CODE),
    ],
)
def test_a_bad_code_table_is_refused(codes, path, message):
    table = "\n".join(line for line in GENDER.splitlines() if not line.startswith("codes")) + "\n" + codes + "\n"
    problem = only(refused(with_gender(table)))
    assert (problem.path, problem.message) == (path, message)
    assert problem.line is not None


def test_a_code_the_ctm_does_not_know_is_named():
    problem = only(refused(with_gender(GENDER.replace('U = "NonSpecifiedUnknown"', 'U = "Unknown"'))))
    assert problem.params == {"code": "Unknown", "field": "gender"}
    assert str(problem).endswith("Unknown is not a CTM code for gender.")


def changed(old: str | None, new: str) -> str:
    """GOOD with its first ``old`` replaced by ``new`` (``new`` appended when ``old`` is None)."""
    text = GOOD + new if old is None else GOOD.replace(old, new, 1)
    assert text != GOOD
    return text


def line_of_change(old: str | None, new: str, key: str) -> int:
    """The line of ``key`` in the replaced (or appended) text."""
    offset = len(GOOD) if old is None else GOOD.index(old)
    text = changed(old, new)
    return text[:offset].count("\n") + line_of(text[offset:], key)


@pytest.mark.parametrize(
    ("old", "new", "path", "message"),
    [
        (
            '[fields.citizenships]\nxpath = ["m:Nationality"]\n',
            '[fields.citizenships]\nxpath = ["m:Nationality"]\ndirection = "both"\n',
            "fields.citizenships.direction",
            s.WRONG_DIRECTION,
        ),
        (
            'xpath = ["m:Languages/m:Language"]\ncardinality = "many"',
            'xpath = ["m:Languages/m:Language"]\ncardinality = "optional"',
            "fields.languages.cardinality",
            s.MUST_BE_MANY,
        ),
        (
            'xpath = ["m:MissionCode"]\ncardinality = "required"',
            'xpath = ["m:MissionCode"]\ncardinality = "many"',
            "fields.mission_code.cardinality",
            s.MUST_NOT_BE_MANY,
        ),
        (
            'xpath = ["m:Sex"]\ncardinality = "required"',
            'xpath = ["m:Sex"]\ncardinality = "sometimes"',
            "fields.gender.cardinality",
            s.BAD_CARDINALITY,
        ),
        (
            'xpath = ["m:Sex"]\ncardinality = "required"\ndirection = "both"',
            'xpath = ["m:Sex"]\ncardinality = "required"\ndirection = "sideways"',
            "fields.gender.direction",
            s.BAD_DIRECTION,
        ),
        ('xpath = ["m:Sex"]', 'xpath = "m:Sex"', "fields.gender.xpath", s.NOT_A_PATH_LIST),
        ('xpath = ["m:Sex"]', "xpath = []", "fields.gender.xpath", s.NOT_A_PATH_LIST),
        ('xpath = ["m:Sex"]', 'xpath = [""]', "fields.gender.xpath", s.NOT_A_PATH_LIST),
        ('xpath = ["m:Sex"]', 'xpath = ["m:Sex"]\ndefault = "U"', "fields.gender.default", s.DEFAULT_NEEDS_ATTRIBUTE),
        (
            'default = "false"',
            'default = "perhaps"',
            "fields.birth_date_precision.default",
            "%(value)s is not true or false.",
        ),
        ('estimated = "Year"', 'estimated = "Week"', "fields.birth_date_precision.estimated", 'Use "Month" or "Year".'),
        (
            "[fields.documents.parts.expires]",
            "[fields.documents.parts.colour]",
            "fields.documents.parts.colour",
            s.UNKNOWN_PART,
        ),
        (
            'xpath = ["@number"]\ncardinality = "required"',
            'xpath = ["@number"]\ncardinality = "many"',
            "fields.documents.parts.number.cardinality",
            s.BAD_PART_CARDINALITY,
        ),
        (
            'xpath = ["@number"]',
            'xpath = ["@number"]\ndirection = "in"',
            "fields.documents.parts.number.direction",
            s.UNKNOWN_KEY,
        ),
        (
            'xpath = ["m:Documents/m:Document"]',
            'xpath = ["m:Documents/m:Document/@type"]',
            "fields.documents.xpath",
            s.PARTS_FROM_ELEMENTS,
        ),
        (None, '\n[fields.middle_name.parts.x]\nxpath = ["@x"]\n', "fields.middle_name.parts.x", s.NO_PARTS),
        (None, '\n[fields.gender.parts.x]\nxpath = ["@x"]\n', "fields.gender.parts.x", s.NO_PARTS),
    ],
)
def test_a_field_that_does_not_fit_its_record_is_refused(old, new, path, message):
    error = refused(changed(old, new))
    assert (error.path, error.message) == (path, message), error.problems
    key = path.rsplit(".", 1)[-1]
    assert error.line == line_of_change(old, new, f"[{path}]" if key in ("x", "colour") else key)


def test_a_field_with_parts_needs_them():
    start = GOOD.index("[fields.documents.parts.type]")
    text = GOOD[:start] + GOOD[GOOD.index("[fields.languages]") :]
    problem = only(refused(text))
    assert (problem.path, problem.message) == ("fields.documents", s.PARTS_NEEDED)
    assert problem.params == {"field": "documents", "parts": "type, number, issuing_country, expires"}


@pytest.mark.parametrize(
    ("old", "new", "path", "message"),
    [
        (
            'xpath = ["m:Name/m:MiddleName"]',
            "xpath = [\"m:Name/m:MiddleName[@x='1']\"]",
            "fields.middle_name.xpath",
            s.OUT_NOT_PLAIN,
        ),
        ('xpath = ["m:ProjectCode"]', 'xpath = ["m:Remarks"]', "fields.project_code.xpath", s.NO_PLACE),
        ('xpath = ["m:ProjectCode"]', 'xpath = ["m:Name"]', "fields.project_code.xpath", s.NO_PLACE),
        ('xpath = ["m:ProjectCode"]', 'xpath = ["m:Name/m:Initials"]', "fields.project_code.xpath", s.NO_PLACE),
        ('xpath = ["m:ProjectCode"]', 'xpath = ["m:BirthDate/@certainty"]', "fields.project_code.xpath", s.NO_PLACE),
        ('xpath = ["m:ProjectCode"]', 'xpath = ["m:LastModified"]', "fields.project_code.xpath", s.NO_PLACE),
        ('xpath = ["m:Vulnerabilities/m:Code"]', 'xpath = ["m:Vulnerabilities/m:Code", "m:Remarks"]', None, None),
        ('xpath = ["m:Languages/m:Language"]', 'xpath = ["m:Nationality"]', "fields.languages.xpath", s.NOT_REPEATED),
        ('xpath = ["@number"]', 'xpath = ["@serial"]', "fields.documents.parts.number.xpath", s.NO_PLACE),
        ('xpath = ["m:ProjectCode"]', 'xpath = ["m:Nationality"]', "fields.project_code.xpath", s.WRITTEN_TWICE),
    ],
)
def test_what_goes_out_must_have_its_place_in_the_host_record(old, new, path, message):
    if path is None:  # only the first XPath is written: the fallbacks may read anything in the subset
        assert parse_mapping(changed(old, new)).fields["vulnerabilities"].xpaths[1] == "m:Remarks"
        return
    problem = only(refused(changed(old, new)))
    assert (problem.path, problem.message, problem.line) == (path, message, line_of_change(old, new, new))


def test_every_problem_is_reported_at_once():
    text = with_gender(GENDER.replace('["m:Sex"]', '["m:Sex["]').replace('"codes"', '"codes"\ncolour = 1'))
    text = text.replace(
        '[fields.middle_name]\nxpath = ["m:Name/m:MiddleName"]', '[fields.middle_name]\nxpath = ["//x"]'
    )
    error = refused(text)
    assert [(p.path, p.message) for p in error.problems] == [
        ("fields.middle_name.xpath", s.OUTSIDE_SUBSET),
        ("fields.gender.colour", s.UNKNOWN_KEY),
        ("fields.gender.xpath", s.BAD_XPATH),
    ]
    assert (error.path, error.message) == ("fields.middle_name.xpath", s.OUTSIDE_SUBSET)
    assert len(str(error).splitlines()) == 3


def test_locate_finds_tables_keys_and_inline_tables():
    text = '[mapping]\nid = "x"\n\n[ fields . "gender" ]\nxpath = []\ncodes = { F = "a" }\n[fields]\nnationality = {}\n'
    assert locate(text, ("mapping", "id")) == 2
    assert locate(text, ("fields", "gender")) == 4
    assert locate(text, ("fields", "gender", "codes", "F")) == 6
    assert locate(text, ("fields", "nationality")) == 8
    assert locate(text, ("fields", "gender", "missing")) == 4
    assert locate(text, ("nowhere",)) is None
