"""The host's secrets sealed at rest: AES-256-GCM under a host key kept outside the database.

What the host seals: its SOAP API users' passwords (the WS-Security digest needs the password
itself, so it cannot be hashed) and every plugin setting marked secret. A copy of the database
alone reads none of them.

A sealed value is the text ``v1.<key id>.<base64url(nonce + ciphertext + tag)>``; the associated
data names the table, the column and the row, so a value copied to another row or column does not
open: it is never taken for another value.

Where the keys live, first that applies:

- ``MIMOSA_DATA_KEY``: one key (base64 of 32 bytes), or several separated by commas, the first
  current (the others still open what they sealed: how a key set here is replaced);
- ``MIMOSA_KEY_FILE``: a JSON file of keys with ids, created readable by its owner only (0600) with
  its first key; default ``var/mimosa-keys.json`` under the working directory, beside the demo's
  database. ``mimosa-host keys rotate`` adds a key and re-seals every value under it.

A lost key loses the secrets sealed under it: back the key file up apart from the database.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import fcntl
import hashlib
import json
import logging
import os
import secrets
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

log = logging.getLogger(__name__)

KEY_ENV = "MIMOSA_DATA_KEY"
KEY_FILE_ENV = "MIMOSA_KEY_FILE"
KEY_BYTES = 32
NONCE_BYTES = 12
VERSION = "v1"


class Undecryptable(Exception):
    """A sealed value that cannot be opened here: its key is gone, or it was sealed for another place.

    The message names the key id, never the value."""


class KeysUnavailable(RuntimeError):
    """The host's keys cannot be read or written (an unreadable file, a malformed ``MIMOSA_DATA_KEY``)."""


def associated_data(table: str, column: str, row: object) -> bytes:
    """What binds a sealed value to its place: table, column and row (its key)."""
    return f"{table}\x1f{column}\x1f{row}".encode()


def _decode_key(text: str, where: str) -> bytes:
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        key = b""
    if len(key) != KEY_BYTES:
        raise KeysUnavailable(f"{where} must hold base64 keys of {KEY_BYTES} bytes")
    return key


class HostKeys:
    """The host's keys by id, the current one sealing; the key file is read again when it changed,
    so that a rotation reaches running servers."""

    def __init__(self, path: Path | None = None, environment: str | None = None) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._keys: dict[str, bytes] = {}
        self._current: str | None = None
        self._stamp: tuple[int, int] | None = None
        if environment is not None:
            for i, text in enumerate(filter(None, (t.strip() for t in environment.split(",")))):
                key = _decode_key(text, KEY_ENV)
                key_id = "env-" + hashlib.sha256(key).hexdigest()[:8]
                self._keys[key_id] = key
                self._current = self._current if i else key_id
            if self._current is None:
                raise KeysUnavailable(f"{KEY_ENV} is empty")

    @property
    def writable(self) -> bool:
        return self.path is not None

    def _read(self) -> None:
        if self.path is None:
            return
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            self._keys, self._current, self._stamp = {}, None, None
            return
        stamp = (stat.st_mtime_ns, stat.st_size)
        if stamp != self._stamp:
            try:
                data = json.loads(self.path.read_text())
                self._keys = {k: _decode_key(v, str(self.path)) for k, v in data["keys"].items()}
                self._current = data["current"]
            except (OSError, ValueError, KeyError, TypeError) as exc:
                raise KeysUnavailable(f"the key file {self.path} cannot be read") from exc
            self._stamp = stamp

    @contextlib.contextmanager
    def _writing(self) -> Iterator[dict[str, Any]]:
        """The file's latest keys under an exclusive lock, written back (0600, atomically) when the block ends."""
        if self.path is None:
            raise KeysUnavailable(f"the keys in {KEY_ENV} cannot be changed here: change the variable itself")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        lock_path = self.path.with_name(self.path.name + ".lock")
        with self._lock, open(os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)) as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            self._stamp = None
            self._read()
            data = {
                "current": self._current,
                "keys": {k: base64.b64encode(v).decode() for k, v in self._keys.items()},
            }
            yield data
            tmp = self.path.with_name(f"{self.path.name}.{os.getpid()}.tmp")
            with os.fdopen(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as out:
                json.dump(data, out, indent=1, sort_keys=True)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, self.path)
            self._stamp = None

    def current(self) -> tuple[str, bytes]:
        """The key new values are sealed under, with its id; the key file is made with it on first use."""
        with self._lock:
            self._read()
            current = self._current
        if current is None:
            with self._writing() as data:  # another process may have made the first key meanwhile
                if data["current"] is None:
                    data["current"] = self._new_key(data)
                current = data["current"]
            with self._lock:
                self._read()
        return current, self._keys[current]

    def key(self, key_id: str) -> bytes | None:
        with self._lock:
            self._read()
            return self._keys.get(key_id)

    def key_ids(self) -> list[str]:
        """Every key's id, the current one first."""
        with self._lock:
            self._read()
            return sorted(self._keys, key=lambda k: (k != self._current, k))

    def add(self) -> str:
        """A new key that becomes the current one; the older ones still open what they sealed."""
        with self._writing() as data:
            key_id = data["current"] = self._new_key(data)
        return key_id

    @staticmethod
    def _new_key(data: dict[str, Any]) -> str:
        key_id = f"host-{secrets.token_hex(4)}"
        data["keys"][key_id] = base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode()
        return key_id

    def retire(self, key_id: str) -> None:
        """Forget an older key (once no value is sealed under it)."""
        with self._writing() as data:
            if data["current"] == key_id:
                raise KeysUnavailable("the current key cannot be retired")
            data["keys"].pop(key_id, None)


_keys: HostKeys | None = None
_keys_lock = threading.Lock()


def default_key_file() -> Path:
    return Path(os.environ.get(KEY_FILE_ENV) or Path("var") / "mimosa-keys.json").absolute()


def host_keys() -> HostKeys:
    """The process's keys: ``MIMOSA_DATA_KEY`` when set, else the key file."""
    global _keys
    with _keys_lock:
        if _keys is None:
            environment = os.environ.get(KEY_ENV)
            _keys = HostKeys(environment=environment) if environment else HostKeys(default_key_file())
        return _keys


def use_host_keys(keys: HostKeys | None) -> None:
    """Replace the process's keys (``None``: find them again from the environment); for commands and tests."""
    global _keys
    with _keys_lock:
        _keys = keys


def key_id_of(token: str) -> str:
    """The id of the key a sealed value was sealed under."""
    return token.split(".", 2)[1] if token.count(".") >= 2 else ""


def seal(plaintext: str, aad: bytes) -> str:
    """``plaintext`` sealed under the current key for the place ``aad`` names."""
    key_id, key = host_keys().current()
    nonce = os.urandom(NONCE_BYTES)
    body = nonce + AESGCM(key).encrypt(nonce, plaintext.encode(), aad)
    return f"{VERSION}.{key_id}.{base64.urlsafe_b64encode(body).decode()}"


def unseal(token: str, aad: bytes) -> str:
    """The plaintext of a sealed value; :class:`Undecryptable` when it cannot be opened here."""
    try:
        version, key_id, body = token.split(".", 2)
        raw = base64.urlsafe_b64decode(body)
    except (ValueError, binascii.Error) as exc:
        raise Undecryptable("not a sealed value") from exc
    if version != VERSION or len(raw) <= NONCE_BYTES:
        raise Undecryptable("not a sealed value")
    key = host_keys().key(key_id)
    if key is None:
        raise Undecryptable(f"key {key_id} is not available")
    try:
        return AESGCM(key).decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], aad).decode()
    except InvalidTag as exc:
        raise Undecryptable(f"sealed under {key_id} for another place") from exc


def opened(token: str, table: str, column: str, row: object) -> str | None:
    """The plaintext of the value sealed at (table, column, row), or ``None`` when it does not open there.

    Its caller treats it as absent; the log names the place and the key id, never the value.
    """
    try:
        return unseal(token, associated_data(table, column, row))
    except Undecryptable:
        log.warning(
            "stored secret cannot be decrypted: %s.%s of row %s (key %s)", table, column, row, key_id_of(token) or "?"
        )
        return None
