"""What the host checks of any text from outside (URLs, forms, the command line) before a query uses it.

PostgreSQL refuses a text holding NUL even in a comparison, and XML cannot carry control characters:
such a value can name no record, user or mission, so it is refused where it enters, the same on
every backend.
"""

from __future__ import annotations

import re

CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff\ufdd0-\ufdef\ufffe\uffff]")
"""Control characters of any kind, surrogates and non-characters: never in a name, a code or a credential."""
TEXT_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
"""What no text may hold (XML 1.0 cannot carry it); tabs and line breaks may (a TOML setting has them)."""


def is_identifier(value: str, max_length: int) -> bool:
    """Whether ``value`` could be a code, an ID or a user name: short enough, no control character."""
    return len(value) <= max_length and not CONTROL.search(value)
