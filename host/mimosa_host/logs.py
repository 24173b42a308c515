"""Logging failures without their text: an exception's message may hold case data.

A failure is logged by the types of its exception chain and the stack frames it was
raised through (file, line, function and source line), never by its message. With
``hide_parameters`` on the engine (see :func:`db.make_engine`) a database error's text
holds no SQL parameters, but the database's own message may still quote values (e.g.
PostgreSQL's "Key (...)=(...) already exists"): hence no message at all.
"""

from __future__ import annotations

import traceback


def exception_type(exc: BaseException) -> str:
    cls = type(exc)
    return cls.__qualname__ if cls.__module__ == "builtins" else f"{cls.__module__}.{cls.__qualname__}"


def exception_summary(exc: BaseException) -> str:
    """``Type (from Cause ...)`` and the stack frames of ``exc``, without any exception's message."""
    chain: list[str] = []
    seen: set[int] = set()
    link: BaseException | None = exc
    while link is not None and id(link) not in seen:
        seen.add(id(link))
        chain.append(exception_type(link))
        link = link.__cause__ or (None if link.__suppress_context__ else link.__context__)
    head = chain[0] + "".join(f" (from {name})" for name in chain[1:])
    frames = "".join(traceback.format_tb(exc.__traceback__)).rstrip()
    return f"{head}\n{frames}" if frames else head
