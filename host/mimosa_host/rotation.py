"""``mimosa-host keys rotate``: a new host key, every secret re-sealed under it, the older keys retired.

The host's secrets are few (its API users' passwords, the plugins' secret settings): they are re-sealed
in one transaction. Servers keep working throughout: they read the key file again when it changes, so
they seal under the new key as soon as it is added, and open values under either key meanwhile.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import Session

from . import enablement, sealing
from .db import transaction
from .models import PluginEnablement
from .soap.models import ApiUser


@dataclass
class Rotation:
    """What a rotation did: the key now current, values re-sealed per table, keys retired, values left."""

    key_id: str
    resealed: dict[str, int] = field(default_factory=dict)
    retired: list[str] = field(default_factory=list)
    undecryptable: int = 0
    """Values that did not open (their key is gone): left as they are, absent to the host."""


def _reseal(session: Session, current: str, rotation: Rotation) -> set[str]:
    """Re-seal under ``current`` what another key sealed; the key ids still in use after."""
    used: set[str] = set()
    for user in session.scalars(sa.select(ApiUser).order_by(ApiUser.username)):
        if sealing.key_id_of(user.sealed_password) != current:
            password = user.password
            if password is None:
                rotation.undecryptable += 1
                used.add(sealing.key_id_of(user.sealed_password))
                continue
            user.password = password
            rotation.resealed[ApiUser.__tablename__] = rotation.resealed.get(ApiUser.__tablename__, 0) + 1
    for state in session.scalars(sa.select(PluginEnablement).order_by(PluginEnablement.id)):
        settings, undecryptable = enablement.stored_settings(state)
        sealed = dict(state.secrets or {})
        for name, token in sealed.items():
            if sealing.key_id_of(token) == current:
                continue
            if name in undecryptable:
                rotation.undecryptable += 1
                used.add(sealing.key_id_of(token))
                continue
            sealed[name] = enablement.seal_secret(state, name, settings[name])
            table = PluginEnablement.__tablename__
            rotation.resealed[table] = rotation.resealed.get(table, 0) + 1
        state.secrets = sealed
    return used


def rotate(factory: Callable[[], Session], keep_old: bool = False) -> Rotation:
    """Add a key (with a key file; with ``MIMOSA_DATA_KEY`` its first key is current already), re-seal every
    value under it, and retire the older keys no value uses any more unless ``keep_old``."""
    keys = sealing.host_keys()
    key_id = keys.add() if keys.writable else keys.current()[0]
    rotation = Rotation(key_id)
    with transaction(factory) as session:
        used = _reseal(session, key_id, rotation)
    if keys.writable and not keep_old:
        for old in keys.key_ids():
            if old != key_id and old not in used:
                keys.retire(old)
                rotation.retired.append(old)
    return rotation
