"""Sealing and the key file: what a copy of the database, a moved value or an erased key gives."""

from __future__ import annotations

import base64
import json
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from . import crypto, keys


@pytest.fixture
def store(tmp_path: Path) -> Iterator[keys.FileKeyStore]:
    file_store = keys.FileKeyStore(tmp_path / "var" / "ctm-keys.json")
    keys.use_key_store(file_store)
    yield file_store
    keys.use_key_store(None)


def test_a_sealed_value_opens_only_where_it_was_sealed(store: keys.FileKeyStore) -> None:
    here = crypto.associated_data("ctm_perpetrator", "alias", 7, "THA")
    token = crypto.seal("Big Brother Somchai", mission="THA", aad=here)
    assert "Somchai" not in token and crypto.is_sealed(token)
    assert crypto.unseal(token, mission="THA", aad=here) == "Big Brother Somchai"
    for elsewhere in (
        crypto.associated_data("ctm_perpetrator", "alias", 8, "THA"),
        crypto.associated_data("ctm_perpetrator", "notes", 7, "THA"),
        crypto.associated_data("ctm_stage", "alias", 7, "THA"),
    ):
        with pytest.raises(crypto.Undecryptable):
            crypto.unseal(token, mission="THA", aad=elsewhere)
    with pytest.raises(crypto.Undecryptable):  # KHM's keys do not hold THA's key id
        crypto.unseal(token, mission="KHM", aad=crypto.associated_data("ctm_perpetrator", "alias", 7, "KHM"))


def test_the_key_file_is_its_owners_and_holds_no_value(store: keys.FileKeyStore) -> None:
    crypto.seal("x", mission="THA", aad=b"a")
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    assert set(json.loads(store.path.read_text())["missions"]) == {"THA"}


def test_a_new_key_seals_while_the_old_one_still_opens_until_retired(store: keys.FileKeyStore) -> None:
    old = crypto.seal("note", mission="THA", aad=b"a")
    new_id = store.add("THA")
    new = crypto.seal("note", mission="THA", aad=b"a")
    assert crypto.key_id_of(new) == new_id != crypto.key_id_of(old)
    assert crypto.unseal(old, mission="THA", aad=b"a") == "note"
    store.retire("THA", crypto.key_id_of(old))
    with pytest.raises(crypto.Undecryptable):
        crypto.unseal(old, mission="THA", aad=b"a")
    assert crypto.unseal(new, mission="THA", aad=b"a") == "note"


def test_erasing_a_missions_keys_leaves_its_values_unreadable_and_others_readable(store: keys.FileKeyStore) -> None:
    tha = crypto.seal("tha", mission="THA", aad=b"a")
    khm = crypto.seal("khm", mission="KHM", aad=b"a")
    store.erase("THA")
    with pytest.raises(crypto.Undecryptable):
        crypto.unseal(tha, mission="THA", aad=b"a")
    assert crypto.unseal(khm, mission="KHM", aad=b"a") == "khm"


def test_a_blind_index_matches_the_same_number_however_typed_and_nothing_else(store: keys.FileKeyStore) -> None:
    assert crypto.blind_index("aa 123-456", "document_number") == crypto.blind_index("AA123456", "document_number")
    assert crypto.blind_index("AA123456", "document_number") != crypto.blind_index("AA123457", "document_number")
    assert crypto.blind_index("AA123456", "document_number") != crypto.blind_index("AA123456", "phone")
    assert "AA123456" not in crypto.blind_index("AA123456", "document_number")


def test_another_process_rotation_is_seen_by_a_running_store(store: keys.FileKeyStore) -> None:
    first, _ = store.current("THA")
    keys.FileKeyStore(store.path).add("THA")  # as `ctm keys rotate` in another process
    assert store.current("THA")[0] != first


def test_keys_given_in_the_environment_cannot_be_changed() -> None:
    env = keys.EnvironmentKeyStore(json.dumps({"missions": {}, "hq": {}}))
    with pytest.raises(keys.KeyStoreError):
        env.current("THA")


def test_a_key_file_with_hqs_single_keys_reads_them_as_rings_and_rotates_the_index(tmp_path: Path) -> None:
    """Key files written before HQ's index key rotated hold each HQ key bare: the same key, id ``<purpose>-0``."""
    path = tmp_path / "ctm-keys.json"
    single = base64.b64encode(b"i" * keys.KEY_BYTES).decode()
    path.write_text(json.dumps({"missions": {}, "hq": {"index": single, "audit": single}}))
    old_store = keys.FileKeyStore(path)
    keys.use_key_store(old_store)
    try:
        before = crypto.blind_index("AA123456", "document_number")
        assert old_store.key_ids(keys.hq_ring("index")) == ["index-0"] and keys.hq_key("index") == b"i" * 32
        new = old_store.add(keys.hq_ring("index"))
        after = crypto.blind_index("AA123456", "document_number")
        assert after != before and crypto.blind_indexes("aa-123456", "document_number") == [before, after]
        old_store.retire(keys.hq_ring("index"), "index-0")
        assert crypto.blind_indexes("AA123456", "document_number") == [after]
        assert old_store.key_ids(keys.hq_ring("index")) == [new] and new.startswith("index-")
        assert keys.hq_key("audit") == b"i" * 32  # the other HQ ring untouched, still bare in the file
        assert json.loads(path.read_text())["hq"]["audit"] == single
    finally:
        keys.use_key_store(None)
