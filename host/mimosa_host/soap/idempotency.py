"""``ClientReference``: a repeated request gets the stored answer, and changes nothing (REL-08).

The answer is stored with the request's fingerprint in the transaction of its effect. The
same reference with another payload is a ``DUPLICATE_REFERENCE`` fault. Two concurrent
requests under one reference collide on the table's unique constraint; the loser is run
again (see :mod:`.app`) and then finds the winner's answer.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from lxml import etree
from sqlalchemy.orm import Session

from .call import Call
from .envelope import Fault
from .messages import serialise, text
from .models import ClientRequest


def fingerprint(request: etree._Element) -> str:
    """SHA-256 of the request's content, whatever prefixes and indentation the client used."""
    return hashlib.sha256(json.dumps(_canonical(request), separators=(",", ":")).encode()).hexdigest()


def _canonical(element: etree._Element) -> list[Any]:
    leaf_text = (element.text or "") if len(element) == 0 else None
    return [element.tag, sorted(element.attrib.items()), leaf_text, [_canonical(child) for child in element]]


def idempotent(
    operation: Callable[[Session, Call], tuple[etree._Element, str]],
) -> Callable[[Session, Call], bytes]:
    """Wrap an operation answering (response element, id of the record it wrote)."""

    @functools.wraps(operation)
    def once(session: Session, call: Call) -> bytes:
        reference = text(call.request, "ClientReference")
        digest = fingerprint(call.request)
        stored = session.scalar(
            sa.select(ClientRequest).where(
                ClientRequest.api_username == call.caller.username, ClientRequest.client_reference == reference
            )
        )
        if stored is not None:
            if stored.payload_hash != digest:
                raise Fault(
                    "DUPLICATE_REFERENCE", "This ClientReference was used for a different request", ["ClientReference"]
                )
            return stored.response_xml.encode()
        response, record_id = operation(session, call)
        answer = serialise(response)
        session.add(
            ClientRequest(
                api_username=call.caller.username,
                client_reference=reference,
                operation=etree.QName(call.request).localname,
                payload_hash=digest,
                record_id=record_id,
                response_xml=answer.decode(),
                created_at=call.now,
            )
        )
        session.flush()
        return answer

    return once
