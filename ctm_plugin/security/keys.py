"""The CTM's keys, kept outside the database: a copy of the database alone reads nothing sealed.

Each mission has its own ring of keys (its records are sealed under its current key; older keys stay until
a rotation has re-sealed everything under the new one); HQ holds the rings that are no mission's, named
``hq:<purpose>`` (:func:`hq_ring`): ``hq:index`` for the blind indexes that match across missions (rotated
like a mission's), ``hq:audit`` for the audit chain.

Where keys live, first that applies:

- a plugin implementing the ``ctm_key_store`` hook (a KMS: see docs/administrators.md);
- ``CTM_KEYS``: the key file's JSON itself, in the environment (read-only: no rotation);
- ``CTM_KEY_FILE``: a JSON file, created with its first key, readable by its owner only
  (default ``var/ctm-keys.json`` under the working directory, beside the demo's database).

A lost key file loses the data sealed under it: back it up apart from the database.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import json
import os
import secrets
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol

KEY_BYTES = 32
"""AES-256 and HMAC-SHA256 keys alike."""
HQ_PURPOSES = ("index", "audit")
HQ_PREFIX = "hq:"


def hq_ring(purpose: str) -> str:
    """The name of HQ's ring of keys for ``purpose`` (one of :data:`HQ_PURPOSES`), asked like a mission's."""
    if purpose not in HQ_PURPOSES:
        raise ValueError(purpose)
    return HQ_PREFIX + purpose


class KeyStore(Protocol):
    """What the CTM asks of wherever its keys live (a file, the environment, a KMS). A ring is a mission's code,
    or one of HQ's (:func:`hq_ring`)."""

    def current(self, mission: str) -> tuple[str, bytes]:
        """The key new values of ``mission`` are sealed under, with its id; made on first use."""

    def key(self, mission: str, key_id: str) -> bytes | None:
        """One of ``mission``'s keys by id; ``None`` when it is gone (erased, or never was)."""

    def key_ids(self, mission: str) -> list[str]:
        """``mission``'s keys' ids, the current one last."""

    def add(self, mission: str) -> str:
        """A new key for ``mission`` that becomes its current one; the older ones stay readable."""

    def retire(self, mission: str, key_id: str) -> None:
        """Forget one of ``mission``'s older keys (after a rotation re-sealed everything under it)."""

    def erase(self, mission: str) -> None:
        """Forget every key of ``mission``: its sealed values can never be read again (crypto-erasure)."""


class KeyStoreError(RuntimeError):
    """The keys cannot be read or written (a missing, unreadable or read-only store)."""


def _new_key() -> str:
    return base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode()


def _new_id(ring: str) -> str:
    return f"{ring.removeprefix(HQ_PREFIX).lower()}-{secrets.token_hex(4)}"


class _Document:
    """The key file's JSON: ``{"missions": {code: RING}, "hq": {purpose: RING}}``, a ring being
    ``{"current": id, "keys": {id: b64}}``. An HQ purpose holding one key as a bare ``b64`` (key files before HQ's
    rotation) reads as a ring of that key, id ``<purpose>-0``, and is written as a ring when it changes."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = {"missions": dict(data.get("missions", {})), "hq": dict(data.get("hq", {}))}

    def _place(self, ring: str) -> tuple[dict[str, Any], str]:
        if ring.startswith(HQ_PREFIX):
            return self.data["hq"], ring.removeprefix(HQ_PREFIX)
        return self.data["missions"], ring

    def mission(self, ring: str) -> dict[str, Any] | None:
        rings, name = self._place(ring)
        entry = rings.get(name)
        if isinstance(entry, str):
            return {"current": f"{name}-0", "keys": {f"{name}-0": entry}}
        return entry

    def set(self, ring: str, entry: dict[str, Any]) -> None:
        rings, name = self._place(ring)
        rings[name] = entry

    def drop(self, ring: str) -> None:
        rings, name = self._place(ring)
        rings.pop(name, None)


class FileKeyStore:
    """Keys in one JSON file (``0600``), rewritten whole and atomically under an exclusive lock,
    and read again when another process changed it (a rotation reaches running servers)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._doc: _Document | None = None
        self._stamp: tuple[int, int] | None = None

    # -- reading ---------------------------------------------------------------------------------
    def _read(self) -> _Document:
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            return _Document({})
        stamp = (stat.st_mtime_ns, stat.st_size)
        if self._doc is None or stamp != self._stamp:
            try:
                self._doc = _Document(json.loads(self.path.read_text()))
            except (OSError, ValueError) as exc:
                raise KeyStoreError(f"the key file {self.path} cannot be read") from exc
            self._stamp = stamp
        return self._doc

    @contextlib.contextmanager
    def _writing(self) -> Iterator[_Document]:
        """The file's latest document under an exclusive lock, written back when the block ends."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        lock_path = self.path.with_name(self.path.name + ".lock")
        with self._lock, open(os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)) as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            self._stamp = None
            doc = self._read()
            yield doc
            tmp = self.path.with_name(self.path.name + f".{os.getpid()}.tmp")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as out:
                json.dump(doc.data, out, indent=1, sort_keys=True)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, self.path)
            self._doc, self._stamp = doc, None

    # -- the store -------------------------------------------------------------------------------
    def current(self, mission: str) -> tuple[str, bytes]:
        entry = self._read().mission(mission)
        if entry is None or entry.get("current") not in entry.get("keys", {}):
            with self._writing() as doc:
                entry = doc.mission(mission)
                if entry is None or entry.get("current") not in entry.get("keys", {}):
                    key_id = _new_id(mission)
                    entry = {"current": key_id, "keys": {**(entry or {}).get("keys", {}), key_id: _new_key()}}
                    doc.set(mission, entry)
        return entry["current"], base64.b64decode(entry["keys"][entry["current"]])

    def key(self, mission: str, key_id: str) -> bytes | None:
        entry = self._read().mission(mission)
        value = (entry or {}).get("keys", {}).get(key_id)
        return base64.b64decode(value) if value else None

    def key_ids(self, mission: str) -> list[str]:
        entry = self._read().mission(mission) or {}
        current = entry.get("current")
        return sorted(k for k in entry.get("keys", {}) if k != current) + ([current] if current else [])

    def add(self, mission: str) -> str:
        with self._writing() as doc:
            entry = doc.mission(mission) or {"keys": {}}
            key_id = _new_id(mission)
            doc.set(mission, {"current": key_id, "keys": {**entry["keys"], key_id: _new_key()}})
        return key_id

    def retire(self, mission: str, key_id: str) -> None:
        with self._writing() as doc:
            entry = doc.mission(mission)
            if entry is None or entry.get("current") == key_id:
                raise KeyStoreError("the current key cannot be retired")
            entry["keys"].pop(key_id, None)
            doc.set(mission, entry)

    def erase(self, mission: str) -> None:
        with self._writing() as doc:
            doc.drop(mission)


class EnvironmentKeyStore(FileKeyStore):
    """Keys given whole in ``CTM_KEYS``: read-only, so every key must be there already."""

    def __init__(self, text: str) -> None:
        super().__init__(Path(os.devnull))
        try:
            self._doc = _Document(json.loads(text))
        except ValueError as exc:
            raise KeyStoreError("CTM_KEYS is not the key file's JSON") from exc

    def _read(self) -> _Document:
        assert self._doc is not None
        return self._doc

    @contextlib.contextmanager
    def _writing(self) -> Iterator[_Document]:
        raise KeyStoreError("the keys in CTM_KEYS cannot be changed: use a key file or a key store")
        yield self._read()  # pragma: no cover - unreachable, keeps this a generator


_store: KeyStore | None = None
_store_lock = threading.Lock()


def default_key_file() -> Path:
    return Path(os.environ.get("CTM_KEY_FILE") or Path("var") / "ctm-keys.json")


def key_store() -> KeyStore:
    """The process's key store (see the module's docstring for where it comes from)."""
    global _store
    if _store is None:
        with _store_lock:
            if _store is None:
                from ctm_plugin.hooks.extensions import plugin_manager

                found = plugin_manager().hook.ctm_key_store()
                if found is not None:
                    _store = found
                elif text := os.environ.get("CTM_KEYS"):
                    _store = EnvironmentKeyStore(text)
                else:
                    _store = FileKeyStore(default_key_file().absolute())
    return _store


def use_key_store(store: KeyStore | None) -> None:
    """Replace the process's key store (``None``: find it again); for commands and tests."""
    global _store
    with _store_lock:
        _store = store


def hq_key(purpose: str) -> bytes:
    """HQ's current key for ``purpose``; made on first use."""
    return key_store().current(hq_ring(purpose))[1]
