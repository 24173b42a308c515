"""Sealing values at rest: AES-256-GCM under the mission's key, bound to where the value lives.

A sealed value is the text ``v1.<key id>.<base64url(nonce + ciphertext + tag)>``: the key id beside
the value says which of the mission's keys opens it, so a rotation can proceed row by row while
both keys read. The associated data names the table, the column, the row and the mission: a value
copied into another row, column or mission does not open, it is never shown as another value.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import unicodedata
from collections.abc import Callable

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from .keys import hq_key, hq_ring, key_store

VERSION = "v1"
NONCE_BYTES = 12


class Undecryptable(Exception):
    """A sealed value that cannot be opened: its key is gone, or it does not belong where it is.

    The message names the key id and the place, never the value."""


def associated_data(table: str, column: str, row: object, mission: str) -> bytes:
    """What binds a sealed value to its place: table, column, row (its primary key) and mission."""
    return f"{table}\x1f{column}\x1f{row}\x1f{mission}".encode()


def is_sealed(text: str | None) -> bool:
    return bool(text) and text.startswith(VERSION + ".") and text.count(".") == 2  # type: ignore[union-attr]


def key_id_of(token: str) -> str:
    """The id of the key a sealed value was sealed under."""
    return token.split(".", 2)[1]


def seal(plaintext: str, *, mission: str, aad: bytes) -> str:
    """``plaintext`` sealed under ``mission``'s current key."""
    key_id, key = key_store().current(mission)
    return seal_with(plaintext, key_id, key, aad)


def seal_with(plaintext: str, key_id: str, key: bytes, aad: bytes) -> str:
    nonce = os.urandom(NONCE_BYTES)
    body = nonce + AESGCM(key).encrypt(nonce, plaintext.encode(), aad)
    return f"{VERSION}.{key_id}.{base64.urlsafe_b64encode(body).decode()}"


def unseal(token: str, *, mission: str, aad: bytes) -> str:
    """The plaintext of a sealed value; :class:`Undecryptable` when it cannot be opened here."""
    try:
        version, key_id, body = token.split(".", 2)
        raw = base64.urlsafe_b64decode(body)
    except ValueError as exc:
        raise Undecryptable("not a sealed value") from exc
    if version != VERSION or len(raw) <= NONCE_BYTES:
        raise Undecryptable("not a sealed value")
    key = key_store().key(mission, key_id)
    if key is None:
        raise Undecryptable(f"key {key_id} of {mission} is not available")
    try:
        return AESGCM(key).decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], aad).decode()
    except InvalidTag as exc:
        raise Undecryptable(f"sealed under {key_id} for another place") from exc


def normalised(value: str) -> str:
    """A value as exact-match search compares it: NFKC, no spaces or dashes, upper case."""
    text = unicodedata.normalize("NFKC", value)
    return "".join(ch for ch in text if not ch.isspace() and ch not in "-‐‑–—/.").upper()


def _index(key: bytes, value: str, purpose: str) -> str:
    return hmac.new(key, f"{purpose}\x1f{normalised(value)}".encode(), hashlib.sha256).hexdigest()


def blind_index(value: str, purpose: str) -> str:
    """A keyed, one-way index of ``value`` for exact-match search (HMAC-SHA256 under HQ's current index key).

    ``purpose`` separates indexes of different kinds of value (e.g. ``document_number``), so that
    equal texts of two kinds do not match each other."""
    return _index(hq_key("index"), value, purpose)


def blind_indexer(purpose: str) -> Callable[[str], list[str]]:
    """:func:`blind_indexes` of many values for one ``purpose``, HQ's index keys read once."""
    store, ring = key_store(), hq_ring("index")
    hq_key("index")  # made on first use
    keys = [key for key in (store.key(ring, key_id) for key_id in store.key_ids(ring)) if key is not None]
    return lambda value: [_index(key, value, purpose) for key in keys]


def blind_indexes(value: str, purpose: str) -> list[str]:
    """``value``'s index under each of HQ's index keys: what a search matches while a rotation of the index key
    (``ctm keys rotate-index``) has not recomputed every stored index yet."""
    return blind_indexer(purpose)(value)
