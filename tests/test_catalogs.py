"""The gettext catalogs of both domains (host ``mimosa_host``, plugin ``ctm_plugin``) are current.

For each domain these tests fail when:

* the committed ``.pot`` is stale: the source strings are extracted again, in memory, with
  the Babel mappings of the domain's ``pyproject.toml`` (what ``make i18n`` runs), and the
  set of msgids (plural ids included) must equal the ``.pot``'s; locations and dates are
  not compared;
* a catalog (en, fr, es) lacks a msgid of the ``.pot``, keeps one the ``.pot`` dropped, has
  a fuzzy entry, or lacks the header gettext needs (Language, Plural-Forms);
* a French or Spanish msgstr is empty (any plural form), or its placeholders (``%(name)s``,
  ``%(num)d``...) differ from the msgid's; English msgstrs stay empty (the msgid is the text);
* a ``.mo`` is not what compiling its ``.po`` gives.

The fix for all of them is ``make i18n``, then translating what it added.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir

# The parser behind `pybabel extract -F pyproject.toml`: the test reads the mappings exactly as
# `make i18n` does (Babel marks it private; if it moves, this import fails loudly, not silently).
from babel.messages.frontend import _parse_mappings_from_toml
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[1]
TRANSLATED = ("fr", "es")
LOCALES = ("en", *TRANSLATED)
FIX = "run `make i18n` (then translate what it added)"


@dataclass(frozen=True)
class Domain:
    name: str
    project_dir: Path
    """Holds the pyproject.toml with the Babel mappings; extraction runs from here."""
    catalog_dir: Path

    def __str__(self) -> str:
        return self.name

    @property
    def pot(self) -> Path:
        return self.catalog_dir / f"{self.name}.pot"

    def po(self, locale: str) -> Path:
        return self.catalog_dir / locale / "LC_MESSAGES" / f"{self.name}.po"

    def mo(self, locale: str) -> Path:
        return self.catalog_dir / locale / "LC_MESSAGES" / f"{self.name}.mo"


DOMAINS = {
    "mimosa_host": Domain("mimosa_host", ROOT / "host", ROOT / "host" / "mimosa_host" / "i18n"),
    "ctm_plugin": Domain("ctm_plugin", ROOT, ROOT / "ctm_plugin" / "i18n"),
}

# Python %-format placeholders; "%%" is a literal percent sign, not a placeholder.
PLACEHOLDER = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[hlL]?[diouxXeEfFgGcrsa%]")


def placeholders(text: str) -> set[str]:
    return {p for p in PLACEHOLDER.findall(text) if p != "%%"}


def key(message) -> tuple[str | None, str | tuple[str, ...]]:  # noqa: ANN001 - a babel Message
    """A message's identity: its context and its msgid, or (msgid, msgid_plural) for a plural."""
    return (message.context, message.id if isinstance(message.id, str) else tuple(message.id))


def show(keys) -> str:  # noqa: ANN001
    return "\n  ".join(repr(k[1]) + (f" (context {k[0]!r})" if k[0] else "") for k in sorted(keys, key=repr))


@cache
def extracted(name: str) -> frozenset:
    """The msgids that `pybabel extract -F pyproject.toml .` (run in the project dir) finds now."""
    domain = DOMAINS[name]
    with (domain.project_dir / "pyproject.toml").open("rb") as f:
        method_map, options_map = _parse_mappings_from_toml(f, filename=str(f.name), style="pyproject.toml")
    catalog = Catalog()  # merges duplicates the way the CLI does
    keywords = {**DEFAULT_KEYWORDS, "N_": None}  # the Makefile passes -k N_ (also a Babel default)
    for filename, lineno, message, comments, context in extract_from_dir(
        domain.project_dir, method_map, options_map, keywords=keywords
    ):
        catalog.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return frozenset(key(m) for m in catalog if m.id)


@cache
def read_catalog(path: Path, locale: str | None = None) -> Catalog:
    assert path.is_file(), f"{path.relative_to(ROOT)} is missing: {FIX}"
    with path.open("rb") as f:
        return read_po(f, locale=locale)


def pot_keys(domain: Domain) -> frozenset:
    return frozenset(key(m) for m in read_catalog(domain.pot) if m.id)


domains = pytest.mark.parametrize("domain", list(DOMAINS.values()), ids=str)
all_locales = pytest.mark.parametrize("locale", LOCALES)
translated_locales = pytest.mark.parametrize("locale", TRANSLATED)


@domains
def test_pot_matches_the_source_strings(domain: Domain) -> None:
    now, committed = extracted(domain.name), pot_keys(domain)
    assert now, f"nothing extracted for {domain}: are the Babel mappings in its pyproject.toml right?"
    new, gone = now - committed, committed - now
    assert not (new or gone), (
        f"{domain.pot.relative_to(ROOT)} is stale: {FIX}.\n"
        f"In the source, not in the .pot:\n  {show(new)}\nIn the .pot, no longer in the source:\n  {show(gone)}"
    )


@domains
@all_locales
def test_catalog_follows_the_pot(domain: Domain, locale: str) -> None:
    catalog = read_catalog(domain.po(locale), locale)
    headers = dict(catalog.mime_headers)
    assert headers.get("Language") == locale, f"{domain.po(locale)}: header Language should be {locale}"
    assert "Plural-Forms" in headers, f"{domain.po(locale)}: the header lacks Plural-Forms"
    assert not catalog.fuzzy, f"{domain.po(locale)}: the header is marked fuzzy"
    keys = frozenset(key(m) for m in catalog if m.id)
    missing, extra = pot_keys(domain) - keys, keys - pot_keys(domain)
    assert not (missing or extra), (
        f"{domain}/{locale}.po does not follow the .pot: {FIX}.\n"
        f"Missing:\n  {show(missing)}\nNot in the .pot:\n  {show(extra)}"
    )
    fuzzy = [key(m) for m in catalog if m.id and m.fuzzy]
    assert not fuzzy, f"{domain}/{locale}: fuzzy entries (check the translation, drop the flag):\n  {show(fuzzy)}"
    if locale == "en":
        # English is the source language: msgstr stays empty and gettext answers with the msgid.
        filled = [key(m) for m in catalog if m.id and any(_forms(m))]
        assert not filled, f"{domain}/en: keep English msgstrs empty, edit the msgid instead:\n  {show(filled)}"


def _forms(message) -> list[str]:  # noqa: ANN001
    return [message.string] if isinstance(message.string, str) else list(message.string)


@domains
@translated_locales
def test_every_entry_is_translated_with_its_placeholders(domain: Domain, locale: str) -> None:
    catalog = read_catalog(domain.po(locale), locale)
    untranslated, wrong_count, wrong_placeholders = [], [], []
    for m in catalog:
        if not m.id:
            continue
        forms = _forms(m)
        if not all(forms):
            untranslated.append(key(m))
        if m.pluralizable and len(forms) != catalog.num_plurals:
            wrong_count.append(key(m))
        ids = [m.id] if isinstance(m.id, str) else list(m.id)
        expected = placeholders(ids[-1])  # msgid_plural; `ngettext` passes the same values to every form
        for form in forms:
            if form and placeholders(form) != expected:
                got = sorted(placeholders(form))
                wrong_placeholders.append(f"{ids[-1]!r} -> {form!r}: {got} != {sorted(expected)}")
    assert not untranslated, f"{domain}/{locale}: untranslated (or a plural form left empty):\n  {show(untranslated)}"
    assert not wrong_count, f"{domain}/{locale}: want {catalog.num_plurals} plural forms:\n  {show(wrong_count)}"
    assert not wrong_placeholders, f"{domain}/{locale}: placeholders differ:\n  " + "\n  ".join(wrong_placeholders)
    problems = [f"{m.id!r}: {errors}" for m, errors in catalog.check()]
    assert not problems, f"{domain}/{locale}: Babel's catalog checks fail:\n  " + "\n  ".join(problems)


def _compiled(data: bytes) -> tuple[dict, str]:
    """What gettext reads from a .mo: every (context, msgid) with its translation, and the plural rule."""
    mo = read_mo(io.BytesIO(data))
    return {key(m): m.string for m in mo if m.id}, mo.plural_forms


@domains
@all_locales
def test_mo_is_compiled_from_the_po(domain: Domain, locale: str) -> None:
    mo_path = domain.mo(locale)
    assert mo_path.is_file(), f"{mo_path.relative_to(ROOT)} is missing: {FIX}"
    expected = io.BytesIO()
    write_mo(expected, read_catalog(domain.po(locale), locale))  # what `pybabel compile` writes
    want_messages, want_plural = _compiled(expected.getvalue())
    have_messages, have_plural = _compiled(mo_path.read_bytes())
    changed = {k for k in want_messages.keys() | have_messages.keys() if want_messages.get(k) != have_messages.get(k)}
    assert not changed, (
        f"{mo_path.relative_to(ROOT)} is out of date with its .po: {FIX}.\nDiffering:\n  {show(changed)}"
    )
    assert have_plural == want_plural, f"{mo_path.relative_to(ROOT)}: plural rule differs from the .po's: {FIX}"


# -- the catalogs load at run time ------------------------------------------------------------


def test_host_translations_load() -> None:
    from mimosa_host import i18n

    assert i18n.gettext("Log in", locale="fr") != "Log in"
    assert i18n.gettext("Log in", locale="es") != "Log in"
    assert i18n.gettext("Log in", locale="en") == "Log in"
    assert i18n.gettext("The plugin %(name)s is enabled in this mission.", locale="fr", name="ctm") == (
        "Le module ctm est activé dans cette mission."
    )
    plural = i18n.translation("es").ngettext("%(num)d beneficiary", "%(num)d beneficiaries", 3)
    assert plural % {"num": 3} == "3 beneficiarios"
    assert i18n.translation("en").ngettext("%(num)d beneficiary", "%(num)d beneficiaries", 1) == "%(num)d beneficiary"


def test_plugin_translations_load() -> None:
    from ctm_plugin import i18n

    assert i18n.translations("es").gettext("Counter-trafficking") == "Lucha contra la trata"
    assert i18n.translations("fr").gettext("Counter-trafficking") == "Lutte contre la traite"
    assert i18n.translations("en").gettext("Counter-trafficking") == "Counter-trafficking"


def test_host_falls_back_to_its_catalog_after_the_plugins() -> None:
    """A plugin's msgid reads in the viewer's language through the host's ``translate_for``."""
    from ctm_plugin.i18n import CATALOG_DIR, DOMAIN
    from mimosa_host import i18n

    assert i18n.translate_for([(CATALOG_DIR, DOMAIN)], "CT caseworker", locale="es") == "Gestor de casos LCT"
    assert i18n.translate_for([(CATALOG_DIR, DOMAIN)], "Log in", locale="fr") == i18n.gettext("Log in", locale="fr")


HAND_OVER = {"fr": "transfert", "es": "traspaso"}
"""The one word each language uses for a hand-over, so the tab, the checklist and the consent agree."""


@pytest.mark.parametrize("locale", TRANSLATED)
def test_a_hand_over_has_one_name_in_each_language(locale: str) -> None:
    catalog = read_catalog(DOMAINS["ctm_plugin"].po(locale), locale)
    other = [
        m.id
        for m in catalog
        if "hand-over" in str(m.id).lower() and not all(HAND_OVER[locale] in text.lower() for text in _forms(m))
    ]
    assert not other, f"{locale}: hand-over not called {HAND_OVER[locale]!r} in {other}"


ELIDED = re.compile(r"(?<=\w)'(?=\w)")
"""A typewriter apostrophe inside a word (``l'intérêt``): French text uses the typographic one (``l’intérêt``)."""


@domains
def test_french_uses_one_apostrophe(domain: Domain) -> None:
    catalog = read_catalog(domain.po("fr"), "fr")
    typewriter = [m.id for m in catalog if m.id and any(ELIDED.search(text) for text in _forms(m))]
    assert not typewriter, f"{domain}/fr: write ’ (U+2019), not ', in:\n  {show(typewriter)}"
