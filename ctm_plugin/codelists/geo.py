"""Countries (ISO 3166-1) and languages (ISO 639-2), labelled with Babel's CLDR names.

The codes come from pycountry; the labels come from CLDR in the current language, not from
the ``ctm_plugin`` catalog, so they are not marked for extraction. A :class:`Code`'s ``label``
holds the English CLDR name (the fallback) and ``extra["cldr"]`` the alpha-2 key CLDR uses.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from functools import cache

import pycountry
from babel import Locale

from ctm_plugin import i18n

from . import Code, CodeList


@cache
def _cldr_names(locale: str, kind: str) -> Mapping[str, str]:
    """CLDR's ``territories`` or ``languages`` names in ``locale``, by alpha-2 code."""
    return getattr(Locale.parse(locale), kind)


def folded(text: str) -> str:
    """Accents stripped and case folded: "Égypte" sorts with "E", "BÀ Lan" compares equal to "ba lan"."""
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c)).casefold()


class CldrCodeList(CodeList):
    """A list whose labels are CLDR names (``territories`` or ``languages``) in the current language.

    The codes are kept in the order of their English names; :meth:`choices` orders them by
    their names in the current language, which is what a reader scans a long list by.
    """

    def __init__(self, name: str, kind: str, codes: Iterable[Code]) -> None:
        self.kind = kind
        self._sorted: dict[str, list[tuple[str, str]]] = {}
        super().__init__(name, codes)

    def _translate(self, code: Code) -> str:
        return _cldr_names(i18n.current_locale(), self.kind).get(code.extra["cldr"], code.label)

    def choices(self) -> list[tuple[str, str]]:
        # Hundreds of entries on every form: sort once per language.
        locale = i18n.current_locale()
        if locale not in self._sorted:
            self._sorted[locale] = sorted(super().choices(), key=lambda choice: folded(choice[1]))
        return list(self._sorted[locale])


def _english(kind: str, cldr: str, fallback: str) -> str:
    return _cldr_names(i18n.DEFAULT_LOCALE, kind).get(cldr, fallback)


def _cldr_list(name: str, kind: str, pairs: Iterable[tuple[str, str, str]]) -> CldrCodeList:
    """From (stored code, CLDR alpha-2 key, pycountry's English name) triples."""
    codes = [Code(value, _english(kind, cldr, fallback), extra={"cldr": cldr}) for value, cldr, fallback in pairs]
    return CldrCodeList(name, kind, sorted(codes, key=lambda code: folded(code.label)))


COUNTRY = _cldr_list(
    "country",  # stored as ISO 3166-1 alpha-3 (CTDC 2024 exports, MissionRef.country)
    "territories",
    ((country.alpha_3, country.alpha_2, country.name) for country in pycountry.countries),
)

LANGUAGE = _cldr_list(
    "language",  # HTCDS prs_PrimaryLanguage/prs_SecondaryLanguage: ISO 639-2/T (terminological)
    "languages",
    (
        (language.alpha_3, language.alpha_2, language.name)
        for language in pycountry.languages
        # ISO 639-1 languages; "sh" (Serbo-Croatian, hbs) is deprecated and has no 639-2 code
        if hasattr(language, "alpha_2") and language.alpha_3 != "hbs"
    ),
)

_ALPHA2 = {code.value: code.extra["cldr"] for code in COUNTRY}
_ALPHA3 = {alpha2: alpha3 for alpha3, alpha2 in _ALPHA2.items()}


def alpha2(alpha3: str) -> str:
    """The ISO 3166-1 alpha-2 code of an alpha-3 country code ("THA" -> "TH"); KeyError if unknown."""
    return _ALPHA2[alpha3.upper()]


def alpha3(alpha2: str) -> str:
    """The ISO 3166-1 alpha-3 code of an alpha-2 country code ("TH" -> "THA"); KeyError if unknown."""
    return _ALPHA3[alpha2.upper()]
