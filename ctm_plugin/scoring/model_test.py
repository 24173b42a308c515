"""The scoring model: the default loads, a bad model is refused naming where, scores computed by hand."""

from __future__ import annotations

from decimal import Decimal

import pytest

from ctm_plugin.mappings.problems import Problem
from ctm_plugin.scoring import model as s
from ctm_plugin.scoring.model import ScoringModelError, compute_scores, default_model, default_text, parse_model

GOOD = default_text()

# Three surveys of the default model (values: first option 0, second 0.5, third 1), scored by hand:
#   economic (0.4)     = income .25, work .2, debt .2, food .15, economic_satisfaction .2
#   social (0.3)       = housing .3, services .25, documents .2, network .25
#   psychosocial (0.3) = safety .3, wellbeing .3, family .2, remigration .2
SURVEYS = [
    {  # economic .5 x 1 = .50; social .3 + .25 + .2 + .125 = .875 -> .88; psychosocial .3 + .15 + .2 + .2 = .85
        # overall .4 x .5 + .3 x .875 + .3 x .85 = .2 + .2625 + .255 = .7175 -> .72
        "income": "irregular",
        "work": "occasional",
        "debt": "manageable",
        "food": "sometimes",
        "economic_satisfaction": "partly",
        "housing": "stable",
        "services": "full",
        "documents": "held",
        "network": "some",
        "safety": "safe",
        "wellbeing": "sometimes",
        "family": "supportive",
        "remigration": "no",
    },
    {  # economic .25 + .2 + .1 + .15 + .1 = .80; social .875 -> .88; psychosocial 1
        # overall .32 + .2625 + .3 = .8825 -> .88
        "income": "regular",
        "work": "stable",
        "debt": "manageable",
        "food": "never",
        "economic_satisfaction": "partly",
        "housing": "stable",
        "services": "full",
        "documents": "held",
        "network": "some",
        "safety": "safe",
        "wellbeing": "rarely",
        "family": "supportive",
        "remigration": "no",
    },
    {  # economic .15 x .5 = .075 -> .08 (half up); social .875 -> .88; psychosocial .15 + .1 = .25
        # overall .4 x .075 + .3 x .875 + .3 x .25 = .03 + .2625 + .075 = .3675 -> .37
        "income": "none",
        "work": "none",
        "debt": "unpayable",
        "food": "sometimes",
        "economic_satisfaction": "not",
        "housing": "stable",
        "services": "full",
        "documents": "held",
        "network": "some",
        "safety": "sometimes",
        "wellbeing": "often",
        "family": "distant",
        "remigration": "plans",
    },
]
EXPECTED = [  # economic, social, psychosocial, overall
    ("0.50", "0.88", "0.85", "0.72"),
    ("0.80", "0.88", "1.00", "0.88"),
    ("0.08", "0.88", "0.25", "0.37"),
]
"""Between the second and third surveys economic (-0.72) and psychosocial (-0.75) fall; social does not."""


def refused(text: str) -> list[Problem]:
    with pytest.raises(ScoringModelError) as caught:
        parse_model(text, "missions/tha.toml")
    return list(caught.value.problems)


def only(text: str) -> Problem:
    problems = refused(text)
    assert len(problems) == 1, [str(p) for p in problems]
    return problems[0]


def line_of(text: str, marker: str) -> int:
    return next(number for number, line in enumerate(text.splitlines(), 1) if marker in line)


def test_the_default_model_loads_with_three_dimensions_and_every_label_in_three_languages():
    model = default_model()
    assert (model.key, model.version) == ("iom-rss", 1)
    assert [d.id for d in model.dimensions] == ["economic", "social", "psychosocial"]
    assert 12 <= len(model.indicators) <= 15
    labels = [model.title, *(d.label for d in model.dimensions)]
    labels += [i.question for i in model.indicators] + [o.label for i in model.indicators for o in i.options]
    assert all(set(label) == {"en", "fr", "es"} and all(label.values()) for label in labels)
    assert sum(d.weight for d in model.dimensions) == 1


@pytest.mark.parametrize(("answers", "expected"), list(zip(SURVEYS, EXPECTED, strict=True)))
def test_scores_are_the_weighted_sums_computed_by_hand(answers, expected):
    scores = compute_scores(default_model(), answers)
    found = (*(str(scores.dimensions[d]) for d in ("economic", "social", "psychosocial")), str(scores.overall))
    assert found == expected


def test_scores_are_decimal_and_lie_between_0_and_1():
    model = default_model()
    lowest = compute_scores(model, {i.id: i.options[0].id for i in model.indicators})
    highest = compute_scores(model, {i.id: i.options[-1].id for i in model.indicators})
    assert lowest.overall == Decimal("0.00") and highest.overall == Decimal("1.00")
    assert all(isinstance(v, Decimal) for v in (*lowest.dimensions.values(), lowest.overall))


def test_answers_are_checked_against_the_scale_naming_the_question():
    model = default_model()
    answers = {**SURVEYS[0], "income": "rich", "extra": "x"}
    del answers["work"]
    problems = s.check_answers(model, answers)
    assert problems["income"] == [(s.NOT_ON_SCALE, {"question": "Does the person have a source of income?"})]
    assert problems["work"] == [(s.UNANSWERED, {})]
    assert problems["extra"] == [(s.NOT_A_QUESTION, {})]
    assert set(problems) == {"income", "work", "extra"}


FR_INCOME = 'fr = "La personne a-t-elle une source de revenus ?", '


@pytest.mark.parametrize(
    ("change", "path", "message", "params"),
    [
        # a label without its French
        ((FR_INCOME, ""), "indicators.income.question", s.MISSING_LANGUAGE, {"language": "fr"}),
        # an option's label without its Spanish
        (
            (', es = "Sin ingresos" } }', " } }"),
            "indicators.income.options.0.label",
            s.MISSING_LANGUAGE,
            {"language": "es"},
        ),
        # an unknown dimension, for an indicator and for a dimension table
        (
            ('dimension = "economic"\nweight = 0.25', 'dimension = "cultural"\nweight = 0.25'),
            "indicators.income.dimension",
            s.UNKNOWN_DIMENSION,
            {"dimension": "cultural", "dimensions": "economic, social, psychosocial"},
        ),
        (
            ("# -- economic", '[dimensions.cultural]\nweight = 0\nlabel = { en = "C", fr = "C", es = "C" }\n# --'),
            "dimensions.cultural",
            s.UNKNOWN_DIMENSION,
            {"dimension": "cultural", "dimensions": "economic, social, psychosocial"},
        ),
        # weights that do not add up
        (
            (
                'weight = 0.25\nquestion = { en = "Does the person have',
                'weight = 0.3\nquestion = { en = "Does the person have',
            ),
            "dimensions.economic",
            s.INDICATOR_WEIGHTS,
            {"dimension": "economic", "total": "1.05"},
        ),
        (
            ("[dimensions.economic]\nweight = 0.4", "[dimensions.economic]\nweight = 0.5"),
            "dimensions",
            s.DIMENSION_WEIGHTS,
            {"total": "1.1"},
        ),
        # an option's value outside 0..1
        (
            ('{ id = "regular", value = 1,', '{ id = "regular", value = 1.5,'),
            "indicators.income.options.2.value",
            s.BAD_VALUE,
            {},
        ),
        (
            (
                '{ id = "none", value = 0, label = { en = "No income"',
                '{ id = "none", value = -0.1, label = { en = "No income"',
            ),
            "indicators.income.options.0.value",
            s.BAD_VALUE,
            {},
        ),
        # a duplicate option id
        (
            ('{ id = "irregular", value = 0.5', '{ id = "none", value = 0.5'),
            "indicators.income.options.1.id",
            s.DUPLICATE_OPTION,
            {"id": "none"},
        ),
        # a weight given as text, a bad version, an unknown key
        (
            ("[dimensions.economic]\nweight = 0.4", '[dimensions.economic]\nweight = "0.4"'),
            "dimensions.economic.weight",
            s.NOT_A_NUMBER,
            {},
        ),
        (("version = 1", "version = 0"), "model.version", s.BAD_VERSION, {}),
        (('key = "iom-rss"', 'key = "iom-rss"\nowner = "me"'), "model.owner", s.UNKNOWN_KEY, {}),
    ],
)
def test_a_bad_model_is_refused_naming_where(change, path, message, params):
    old, new = change
    assert old in GOOD, old
    text = GOOD.replace(old, new, 1)
    problem = only(text)
    assert (problem.path, problem.message, dict(problem.params)) == (path, message, params)
    assert problem.file == "missions/tha.toml"
    assert problem.line is not None


def test_a_duplicate_indicator_is_a_toml_error_with_its_line():
    text = GOOD + '\n[indicators.income]\ndimension = "economic"\n'
    problem = only(text)
    assert problem.message == "The file is not valid TOML: %(error)s" and problem.line


def test_a_problem_reads_as_file_line_key_and_message():
    text = GOOD.replace(FR_INCOME, "", 1)
    problem = only(text)
    assert str(problem) == (
        f"missions/tha.toml:{line_of(text, 'Does the person have a source')}: indicators.income.question:"
        " The label has no fr text: every label is written in en, fr and es."
    )


def test_a_dimension_without_indicators_and_a_model_without_dimensions_are_refused():
    text = GOOD.replace("[dimensions.psychosocial]", "[dimensions.psychosocial]", 1)
    text = text.split("# -- psychosocial")[0]
    text = text.replace("[dimensions.economic]\nweight = 0.4", "[dimensions.economic]\nweight = 0.4")
    problems = refused(text)
    assert [(p.path, p.message) for p in problems] == [("dimensions.psychosocial", s.EMPTY_DIMENSION)]
    assert (
        refused(
            '[model]\nkey = "x"\nversion = 1\ntitle = { en = "a", fr = "b", es = "c" }\n[dimensions]\n[indicators]\n'
        )[0].message
        == s.NO_DIMENSION
    )
