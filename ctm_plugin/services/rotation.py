"""A mission's key rotation without downtime: a new current key, every sealed value re-sealed under it, the
older keys retired (``mimosa-host ctm keys rotate``).

Servers keep working throughout: the key file is read again when it changes, so they seal under the new key
as soon as it is added, and open values under the older keys until those are retired. The re-sealing goes
table by table in small batches, each its own mission-scoped transaction; a value is written back only if it
is still the one that was read (a caseworker who saved it meanwhile sealed it under the new key already).

A rotation killed halfway resumes: while some value of the mission is still under one of its older keys,
running it again adds no key, re-seals what is left and only then retires the older keys. A value that
cannot be opened where it is (copied from another row) is left as it is: it reads as "This record cannot be
decrypted" before and after.

HQ's index key (blind indexes of document numbers, matched across missions) rotates the same way
(``mimosa-host ctm keys rotate-index``): a new current key, each mission's indexes recomputed from the opened
numbers in small batches, then the older keys retired; a search matches under every key meanwhile
(:func:`ctm_plugin.security.crypto.blind_indexes`), and an interrupted rotation resumes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.orm import Mapper

from ctm_plugin.domain.preparation import ReturnPreparation
from ctm_plugin.domain.sealed import Sealed, Unreadable, sealed_attributes
from ctm_plugin.security import audit, crypto
from ctm_plugin.security.keys import hq_key, hq_ring, key_store
from mimosa_host.plugin_api import RequestContext

from .base import unit_of_work

Progress = Callable[[str, int], None]
"""Told a table's name and how many of its values were re-sealed so far, after each batch."""


@dataclass
class Rotation:
    """What a mission's rotation did: the key now current, whether it resumed an unfinished one, values
    re-sealed per table, values that cannot be opened (left as they are), the keys retired."""

    key_id: str
    resumed: bool
    resealed: dict[str, int] = field(default_factory=dict)
    unopenable: int = 0
    retired: list[str] = field(default_factory=list)


def _under(stored: Any, key_ids: list[str]) -> sa.ColumnElement[bool]:
    """``stored`` (a sealed column) holds a value sealed under one of ``key_ids``."""
    text = sa.cast(stored, sa.Text)  # a sealed document's column is JSON on SQLite: compared as the text it holds
    return sa.or_(*(text.startswith(f"{crypto.VERSION}.{key_id}.", autoescape=True) for key_id in key_ids))


def _stale(cls: type, names: list[str], older: list[str]) -> sa.ColumnElement[bool]:
    return sa.or_(*(_under(getattr(cls, f"{name}_sealed"), older) for name in names))


def _sealed_groups() -> Iterator[tuple[Mapper[Any], str, list[str]]]:
    """Each class's sealed attributes by the column naming the mission whose keys seal them (a hand-over's
    record: its receiving mission's; its decline reason: the proposing mission's)."""
    for mapper, names in sealed_attributes():
        by_mission: dict[str, list[str]] = {}
        for name in names:
            by_mission.setdefault(cast(Sealed, getattr(mapper.class_, name)).mission, []).append(name)
        for mission, grouped in by_mission.items():
            yield mapper, mission, grouped


def _unfinished(ctx: RequestContext, older: list[str]) -> bool:
    """Some value of the mission is still under one of its older keys: an earlier rotation did not finish."""
    if not older:
        return False
    with unit_of_work(ctx) as session:
        return any(
            session.scalar(
                sa.select(sa.literal(1))
                .select_from(mapper.class_)
                .where(getattr(mapper.class_, mission) == ctx.mission.code, _stale(mapper.class_, names, older))
                .limit(1)
            )
            for mapper, mission, names in _sealed_groups()
        )


def _batch(
    ctx: RequestContext, group: tuple[Mapper[Any], str, list[str]], older: list[str], after: Any, size: int
) -> tuple[Any, int, int]:
    """Re-seal the values under ``older`` keys of the next ``size`` rows after primary key ``after``, in one
    transaction; the last row's key (``None`` when there was none), the values re-sealed and those left."""
    mapper, mission, names = group
    cls, code = mapper.class_, ctx.mission.code
    table = cast(sa.Table, mapper.local_table)
    (pk,) = mapper.primary_key
    resealed = unopenable = 0
    last = None
    with unit_of_work(ctx) as session:
        query = sa.select(cls).where(getattr(cls, mission) == code, _stale(cls, names, older))
        if after is not None:
            query = query.where(pk > after)
        rows = session.scalars(query.order_by(pk).limit(size).with_for_update()).all()
        for row in rows:
            last = getattr(row, mapper.get_property_by_column(pk).key)
            for name in names:
                token = getattr(row, f"{name}_sealed")
                if not crypto.is_sealed(token) or crypto.key_id_of(token) not in older:
                    continue
                sealed: Sealed = getattr(cls, name)
                new = sealed.resealed(row)
                if new is None:
                    unopenable += 1
                    continue
                # straight to the row, not through the unit of work: a rotation is no edit, so a versioned row
                # keeps its version (no caseworker's open form turns stale), and only the value read is replaced
                written = session.connection().execute(
                    sa.update(table)
                    .where(pk == last, table.c[mission] == code, table.c[name] == token)
                    .values({name: new})
                )
                resealed += written.rowcount
    return last, resealed, unopenable


def _pass(ctx: RequestContext, older: list[str], size: int, rotation: Rotation, progress: Progress) -> int:
    """One walk over every sealed table of the mission; how many values it re-sealed."""
    total = 0
    for group in _sealed_groups():
        table = group[0].local_table.name  # type: ignore[attr-defined]
        after: Any = None
        while True:
            after, resealed, unopenable = _batch(ctx, group, older, after, size)
            if after is None:
                break
            total += resealed
            rotation.unopenable += unopenable
            if resealed:
                rotation.resealed[table] = rotation.resealed.get(table, 0) + resealed
                progress(table, rotation.resealed[table])
    return total


def rotate(ctx: RequestContext, *, batch_size: int, keep_old: bool, progress: Progress) -> Rotation:
    """Rotate ``ctx.mission``'s key, or finish the rotation an interruption left halfway (see the module)."""
    store, code = key_store(), ctx.mission.code
    ids = store.key_ids(code)
    resumed = _unfinished(ctx, ids[:-1])
    key_id = ids[-1] if resumed else store.add(code)
    older = [key_id_ for key_id_ in store.key_ids(code) if key_id_ != key_id]
    rotation = Rotation(key_id, resumed)
    # walked again until a walk re-seals nothing: a request that sealed under an older key just before the new
    # one was added may have committed behind the walk; the last walk counts the values that cannot be opened
    while older:
        rotation.unopenable = 0
        if not _pass(ctx, older, batch_size, rotation, progress):
            break
    if not keep_old:
        for old in older:
            store.retire(code, old)
        rotation.retired = older
    with unit_of_work(ctx) as session:
        audit.record(session, ctx, "keys.rotate", None, [f"{table}:{n}" for table, n in rotation.resealed.items()])
    return rotation


def start_index_rotation() -> tuple[str, bool]:
    """HQ's new current index key, or the one an unfinished rotation added (some older key still there); and
    whether it resumed."""
    store, ring = key_store(), hq_ring("index")
    hq_key("index")  # made on first use
    ids = store.key_ids(ring)
    return (ids[-1], True) if len(ids) > 1 else (store.add(ring), False)


def reindex(ctx: RequestContext, *, batch_size: int) -> tuple[int, int]:
    """Recompute ``ctx.mission``'s document-number indexes under HQ's current index key, ``batch_size`` rows a
    transaction; how many changed, and how many numbers cannot be opened (their index is left as it is)."""
    table = cast(sa.Table, ReturnPreparation.__table__)
    changed = unopenable = 0
    after = 0
    while True:
        with unit_of_work(ctx) as session:
            rows = session.scalars(
                sa.select(ReturnPreparation)
                .where(
                    ReturnPreparation.mission_code == ctx.mission.code,
                    ReturnPreparation.document_number_index.is_not(None),
                    ReturnPreparation.id > after,
                )
                .order_by(ReturnPreparation.id)
                .limit(batch_size)
                .with_for_update()
            ).all()
            if not rows:
                break
            for row in rows:
                after, number = row.id, row.document_number
                if not number or isinstance(number, Unreadable):
                    unopenable += 1
                    continue
                index = crypto.blind_index(number, "document_number")
                if index != row.document_number_index:  # straight to the row: no edit, the version stays
                    session.connection().execute(
                        sa.update(table).where(table.c.id == row.id).values(document_number_index=index)
                    )
                    changed += 1
        if len(rows) < batch_size:
            break
    with unit_of_work(ctx) as session:
        audit.record(session, ctx, "keys.rotate-index", None, [f"ctm_return_preparation:{changed}"])
    return changed, unopenable


def finish_index_rotation(current: str) -> list[str]:
    """Retire HQ's index keys older than ``current`` once every mission was re-indexed; their ids."""
    store, ring = key_store(), hq_ring("index")
    older = [key_id for key_id in store.key_ids(ring) if key_id != current]
    for key_id in older:
        store.retire(ring, key_id)
    return older


def erase(ctx: RequestContext) -> None:
    """Crypto-erasure: forget every key of ``ctx.mission``, so that its sealed values can never be read again,
    and say so in the mission's audit trail (which is not sealed under the mission's keys)."""
    key_store().erase(ctx.mission.code)
    with unit_of_work(ctx) as session:
        audit.record(session, ctx, "keys.erase", None)
