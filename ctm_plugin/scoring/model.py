"""The scoring model file format, every check a model passes, and the scores it gives a survey.

A scoring model (TOML) is the sustainability survey a mission asks at its monitoring visits,
modelled on IOM's Reintegration Sustainability Survey; ``docs/integrators.md`` is the guide::

    [model]
    key = "iom-rss"                 # a short name: lower-case letters, digits, "-" and "_"
    version = 1                     # a whole number from 1 to 999999, bumped on every change
    title = { en = "...", fr = "...", es = "..." }

    [dimensions.economic]           # economic, social or psychosocial
    weight = 0.4                    # the dimensions' weights add up to 1
    label = { en = "Economic", fr = "Économique", es = "Económica" }

    [indicators.income]             # an indicator id: lower-case letters, digits and "_"
    dimension = "economic"
    weight = 0.3                    # the weights of a dimension's indicators add up to 1
    question = { en = "...", fr = "...", es = "..." }
    [[indicators.income.options]]   # the answer scale, in the order the form shows it
    id = "none"
    value = 0                       # from 0 (least sustainable) to 1 (most)
    label = { en = "...", fr = "...", es = "..." }

Every label is written in English, French and Spanish inside the file. Weights and values are
read as decimals, exactly as written (TOML floats never pass through binary floating point).

Scores: a dimension's is the sum of its indicators' weight × the chosen option's value, the
overall score the sum of each dimension's weight × its score, all computed exactly with ``Decimal``
and each rounded to 2 decimals (half up) at the end: the overall score is computed from the
exact dimension scores, not the rounded ones. Every score lies between 0 and 1.

Problems are :class:`~ctm_plugin.mappings.problems.Problem`s, like a mapping file's: a msgid with
its params, the file, the dotted path of the key and, when found, its line.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, validate

from ctm_plugin.i18n import N_, current_locale
from ctm_plugin.mappings.problems import MappingError, Problem, Source, read_toml

DIMENSIONS = ("economic", "social", "psychosocial")
"""The dimensions a model may score, IOM's three."""
LANGUAGES = ("en", "fr", "es")
MAX_VERSION = 999_999
MAX_LABEL = 300
MAX_INDICATORS = 60
MAX_OPTIONS = 12
MAX_DOCUMENT = 100_000
"""The longest model document accepted (characters)."""
CENT = Decimal("0.01")
DEFAULT_FILE = Path(__file__).parent / "default" / "iom_rss.toml"

UNKNOWN_KEY = N_("Unknown key.")
REQUIRED_KEY = N_("This key is required.")
NOT_A_TABLE = N_("Expected a table.")
NOT_A_LIST = N_("Expected a list of tables.")
NOT_TEXT = N_("Expected text.")
BAD_VERSION = N_("The version is a whole number from 1 to 999999.")
BAD_ID = N_('Use lower-case letters, digits and "_" (at most 40), starting with a letter, e.g. "income".')
BAD_KEY = N_('Use lower-case letters, digits, "-" and "_" (at most 40), starting with a letter, e.g. "iom-rss".')
NOT_A_NUMBER = N_("Expected a number, e.g. 0.25.")
BAD_WEIGHT = N_("A weight is greater than 0 and at most 1.")
BAD_VALUE = N_("An option's value is between 0 and 1.")
MISSING_LANGUAGE = N_("The label has no %(language)s text: every label is written in en, fr and es.")
UNKNOWN_LANGUAGE = N_("Unknown language %(language)s: the languages are en, fr and es.")
LABEL_TOO_LONG = N_("A label is at most %(max)d characters.")
EMPTY_LABEL = N_("The label is empty.")
UNKNOWN_DIMENSION = N_("Unknown dimension %(dimension)s: the dimensions are %(dimensions)s.")
UNDECLARED_DIMENSION = N_("The dimension %(dimension)s is not declared under [dimensions].")
NO_DIMENSION = N_("A model declares at least one dimension.")
EMPTY_DIMENSION = N_("The dimension %(dimension)s has no indicator.")
DIMENSION_WEIGHTS = N_("The dimensions' weights add up to %(total)s, not 1.")
INDICATOR_WEIGHTS = N_("The weights of the %(dimension)s indicators add up to %(total)s, not 1.")
DUPLICATE_OPTION = N_("The option id %(id)s is used twice in this question.")
TOO_FEW_OPTIONS = N_("A question has from 2 to %(max)d options.")
TOO_MANY_INDICATORS = N_("A model has at most %(max)d indicators.")
DOCUMENT_TOO_LONG = N_("The model is longer than %(max)s characters.")

ID = r"^[a-z][a-z0-9_]{0,39}\Z"
KEY = r"^[a-z][a-z0-9_-]{0,39}\Z"


class ScoringModelError(MappingError):
    """A scoring model that cannot be used; ``problems`` lists every one found."""


# -- the marshmallow schemas ------------------------------------------------------------------

_KEY_ERRORS: dict[str, Any] = {"required": REQUIRED_KEY, "null": REQUIRED_KEY}


class _Number(fields.Field):
    """A TOML number read as ``Decimal`` (an integer too); text and booleans are refused."""

    default_error_messages = {"invalid": NOT_A_NUMBER}

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Decimal:
        if isinstance(value, bool) or not isinstance(value, int | Decimal) or not Decimal(value).is_finite():
            raise self.make_error("invalid")
        return Decimal(value)


def _number(error: str, *, minimum_inclusive: bool) -> _Number:
    return _Number(
        required=True,
        validate=validate.Range(min=0, max=1, min_inclusive=minimum_inclusive, error=error),
        error_messages=_KEY_ERRORS,
    )


def _text(**kwargs: Any) -> fields.String:
    return fields.String(error_messages={**_KEY_ERRORS, "invalid": NOT_TEXT, "invalid_utf8": NOT_TEXT}, **kwargs)


def _table(**kwargs: Any) -> fields.Dict:
    return fields.Dict(error_messages={**_KEY_ERRORS, "invalid": NOT_A_TABLE}, **kwargs)


class _TableSchema(Schema):
    error_messages = {"unknown": UNKNOWN_KEY, "type": NOT_A_TABLE}

    class Meta:
        unknown = RAISE


class HeaderSchema(_TableSchema):
    """``[model]``."""

    key = _text(required=True, validate=validate.Regexp(KEY, error=BAD_KEY))
    version = fields.Integer(
        required=True,
        strict=True,
        validate=validate.Range(min=1, max=MAX_VERSION, error=BAD_VERSION),
        error_messages={**_KEY_ERRORS, "invalid": BAD_VERSION},
    )
    title = _table(required=True)


class ModelFileSchema(_TableSchema):
    model = _table(required=True)
    dimensions = _table(required=True)
    indicators = _table(required=True)


class DimensionSchema(_TableSchema):
    weight = _number(BAD_WEIGHT, minimum_inclusive=False)
    label = _table(required=True)


class IndicatorSchema(_TableSchema):
    dimension = _text(required=True)
    weight = _number(BAD_WEIGHT, minimum_inclusive=False)
    question = _table(required=True)
    options = fields.List(_table(), required=True, error_messages={**_KEY_ERRORS, "invalid": NOT_A_LIST})


class OptionSchema(_TableSchema):
    id = _text(required=True, validate=validate.Regexp(ID, error=BAD_ID))
    value = _number(BAD_VALUE, minimum_inclusive=True)
    label = _table(required=True)


# -- the model --------------------------------------------------------------------------------

Label = Mapping[str, str]
"""A label in each language: ``{"en": ..., "fr": ..., "es": ...}``."""


def in_language(label: Label, language: str | None = None) -> str:
    """The label in ``language`` (the reader's by default), English if the language is not one of the model's."""
    language = language or current_locale()
    return label.get(language) or label["en"]


@dataclass(frozen=True)
class Option:
    id: str
    value: Decimal
    label: Label


@dataclass(frozen=True)
class Indicator:
    id: str
    dimension: str
    weight: Decimal
    question: Label
    options: tuple[Option, ...]

    def option(self, option_id: str) -> Option | None:
        return next((option for option in self.options if option.id == option_id), None)


@dataclass(frozen=True)
class Dimension:
    id: str
    weight: Decimal
    label: Label


@dataclass(frozen=True)
class ScoringModel:
    key: str
    version: int
    title: Label
    dimensions: tuple[Dimension, ...]
    indicators: tuple[Indicator, ...]

    def indicators_of(self, dimension: str) -> tuple[Indicator, ...]:
        return tuple(indicator for indicator in self.indicators if indicator.dimension == dimension)

    def indicator(self, indicator_id: str) -> Indicator | None:
        return next((indicator for indicator in self.indicators if indicator.id == indicator_id), None)


@dataclass(frozen=True)
class Scores:
    """A survey's scores, each from 0 to 1 with 2 decimals: per dimension (in the model's order) and overall."""

    dimensions: Mapping[str, Decimal]
    overall: Decimal


def _flatten(messages: Any, path: tuple[Any, ...] = ()) -> list[tuple[tuple[Any, ...], str]]:
    found: list[tuple[tuple[Any, ...], str]] = []
    if isinstance(messages, dict):
        for key, value in messages.items():
            found += _flatten(value, path if key == "_schema" else (*path, key))
    else:
        for message in messages:
            found += _flatten(message, path) if isinstance(message, dict | list) else [(path, message)]
    return found


def _load(schema: Schema, data: Any, source: Source, at: tuple[Any, ...], problems: list[Problem]) -> dict | None:
    try:
        return schema.load(data)
    except ValidationError as error:
        problems.extend(source.problem((*at, *path), message) for path, message in _flatten(error.messages))
        return None


def _label(data: Any, source: Source, at: tuple[Any, ...], problems: list[Problem]) -> Label | None:
    """A label table: exactly en, fr and es, each a non-empty text."""
    before = len(problems)
    if not isinstance(data, dict):
        problems.append(source.problem(at, NOT_A_TABLE))
        return None
    for language in data:
        if language not in LANGUAGES:
            problems.append(source.problem((*at, language), UNKNOWN_LANGUAGE, language=language))
    for language in LANGUAGES:
        text = data.get(language)
        if text is None:
            problems.append(source.problem(at, MISSING_LANGUAGE, language=language))
        elif not isinstance(text, str):
            problems.append(source.problem((*at, language), NOT_TEXT))
        elif not text.strip():
            problems.append(source.problem((*at, language), EMPTY_LABEL))
        elif len(text) > MAX_LABEL:
            problems.append(source.problem((*at, language), LABEL_TOO_LONG, max=MAX_LABEL))
    return {language: data[language].strip() for language in LANGUAGES} if len(problems) == before else None


def _total(weights: list[Decimal]) -> str:
    return str(sum(weights, Decimal(0)).normalize())


def parse_model(text: str, source_name: str = "<scoring model>") -> ScoringModel:
    """The model a TOML document describes; :class:`ScoringModelError` with every problem found."""
    source = Source(source_name, text)
    if len(text) > MAX_DOCUMENT:
        raise ScoringModelError([Problem(source_name, "", DOCUMENT_TOO_LONG, None, {"max": f"{MAX_DOCUMENT:,}"})])
    try:
        data = read_toml(source, parse_float=Decimal)
    except MappingError as error:
        raise ScoringModelError(error.problems) from None
    problems: list[Problem] = []
    top = _load(ModelFileSchema(), data, source, (), problems)
    header = _load(HeaderSchema(), data["model"], source, ("model",), problems) if top else None
    title = _label(header["title"], source, ("model", "title"), problems) if header else None

    dimensions: list[Dimension] = []
    for dimension_id, table in (top["dimensions"] if top else {}).items():
        at = ("dimensions", dimension_id)
        if dimension_id not in DIMENSIONS:
            problems.append(
                source.problem(at, UNKNOWN_DIMENSION, dimension=dimension_id, dimensions=", ".join(DIMENSIONS))
            )
            continue
        loaded = _load(DimensionSchema(), table, source, at, problems)
        label = _label(loaded["label"], source, (*at, "label"), problems) if loaded else None
        if loaded and label:
            dimensions.append(Dimension(dimension_id, loaded["weight"], label))
    if top and not top["dimensions"]:
        problems.append(source.problem(("dimensions",), NO_DIMENSION))

    indicators: list[Indicator] = []
    for indicator_id, table in (top["indicators"] if top else {}).items():
        at = ("indicators", indicator_id)
        if not isinstance(indicator_id, str) or not re.match(ID, indicator_id):
            problems.append(source.problem(at, BAD_ID))
            continue
        indicator = _indicator(indicator_id, table, source, at, top["dimensions"] if top else {}, problems)
        if indicator:
            indicators.append(indicator)
    if len(top["indicators"] if top else ()) > MAX_INDICATORS:
        problems.append(source.problem(("indicators",), TOO_MANY_INDICATORS, max=MAX_INDICATORS))

    if not problems:
        if _total([d.weight for d in dimensions]) != "1":
            problems.append(
                source.problem(("dimensions",), DIMENSION_WEIGHTS, total=_total([d.weight for d in dimensions]))
            )
        for dimension in dimensions:
            weights = [i.weight for i in indicators if i.dimension == dimension.id]
            if not weights:
                problems.append(source.problem(("dimensions", dimension.id), EMPTY_DIMENSION, dimension=dimension.id))
            elif _total(weights) != "1":
                problems.append(
                    source.problem(
                        ("dimensions", dimension.id), INDICATOR_WEIGHTS, dimension=dimension.id, total=_total(weights)
                    )
                )
    if problems:
        raise ScoringModelError([_with_line(problem, text) for problem in problems])
    assert header is not None and title is not None  # else a problem was found
    return ScoringModel(header["key"], header["version"], title, tuple(dimensions), tuple(indicators))


def _indicator(
    indicator_id: str,
    table: Any,
    source: Source,
    at: tuple[Any, ...],
    declared: Mapping[str, Any],
    problems: list[Problem],
) -> Indicator | None:
    loaded = _load(IndicatorSchema(), table, source, at, problems)
    if loaded is None:
        return None
    before = len(problems)
    dimension = loaded["dimension"]
    if dimension not in DIMENSIONS:
        problems.append(
            source.problem((*at, "dimension"), UNKNOWN_DIMENSION, dimension=dimension, dimensions=", ".join(DIMENSIONS))
        )
    elif dimension not in declared:
        problems.append(source.problem((*at, "dimension"), UNDECLARED_DIMENSION, dimension=dimension))
    question = _label(loaded["question"], source, (*at, "question"), problems)
    raw_options = loaded["options"]
    if not 2 <= len(raw_options) <= MAX_OPTIONS:
        problems.append(source.problem((*at, "options"), TOO_FEW_OPTIONS, max=MAX_OPTIONS))
    options: list[Option] = []
    seen: set[str] = set()
    for number, raw in enumerate(raw_options):
        where = (*at, "options", number)
        option = _load(OptionSchema(), raw, source, where, problems)
        label = _label(option["label"], source, (*where, "label"), problems) if option else None
        if option is None or label is None:
            continue
        if option["id"] in seen:
            problems.append(source.problem((*where, "id"), DUPLICATE_OPTION, id=option["id"]))
        seen.add(option["id"])
        options.append(Option(option["id"], option["value"], label))
    if len(problems) != before or question is None:
        return None
    return Indicator(indicator_id, dimension, loaded["weight"], question, tuple(options))


def _with_line(problem: Problem, text: str) -> Problem:
    """A problem about a table with no header of its own (``dimensions``) points at its first sub-table."""
    if problem.line is not None or not problem.path:
        return problem
    for number, line in enumerate(text.splitlines(), 1):
        if line.strip().startswith((f"[{problem.path}.", f"[{problem.path}]")):
            return replace(problem, line=number)
    return problem


# -- scores -----------------------------------------------------------------------------------


def rounded(value: Decimal) -> Decimal:
    """A score as it is kept and shown: 2 decimals, half up."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def compute_scores(model: ScoringModel, answers: Mapping[str, str]) -> Scores:
    """The scores of a survey answering every question of ``model`` (indicator id → option id).

    Exact sums of weight × value, rounded to 2 decimals (half up) at the end. A missing or unknown
    answer is a programming error here (:func:`check_answers` refuses it first): ``KeyError``.
    """
    exact: dict[str, Decimal] = {}
    for dimension in model.dimensions:
        total = Decimal(0)
        for indicator in model.indicators_of(dimension.id):
            option = indicator.option(answers[indicator.id])
            if option is None:
                raise KeyError(indicator.id)
            total += indicator.weight * option.value
        exact[dimension.id] = total
    overall = sum((dimension.weight * exact[dimension.id] for dimension in model.dimensions), Decimal(0))
    return Scores({key: rounded(value) for key, value in exact.items()}, rounded(overall))


UNANSWERED = N_("Answer this question.")
NOT_ON_SCALE = N_("Choose one of the answers to %(question)s.")
NOT_A_QUESTION = N_("This question is not part of the scoring model.")


def check_answers(model: ScoringModel, answers: Mapping[str, Any]) -> dict[str, list[tuple[str, dict[str, str]]]]:
    """Problems per indicator id: a question left unanswered, an answer outside its scale, an unknown question.

    Each problem is a msgid with its params (the question, in the reader's language).
    """
    problems: dict[str, list[tuple[str, dict[str, str]]]] = {}
    for indicator_id in answers:
        if model.indicator(indicator_id) is None:
            problems[indicator_id] = [(NOT_A_QUESTION, {})]
    for indicator in model.indicators:
        answer = answers.get(indicator.id)
        if answer is None or answer == "":
            problems[indicator.id] = [(UNANSWERED, {})]
        elif not isinstance(answer, str) or indicator.option(answer) is None:
            problems[indicator.id] = [(NOT_ON_SCALE, {"question": in_language(indicator.question)})]
    return problems


def default_model() -> ScoringModel:
    """The model shipped with the plugin, in force in a mission that has not saved its own."""
    return parse_model(default_text(), "ctm_plugin/scoring/default/iom_rss.toml")


def default_text() -> str:
    return DEFAULT_FILE.read_text(encoding="utf-8")
