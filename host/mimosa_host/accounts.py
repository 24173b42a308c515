"""Users, their missions and permissions, and login throttled per client address."""

from __future__ import annotations

import dataclasses
import functools
import logging
from collections.abc import Iterable
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from . import passwords, throttle
from .models import Mission, RoleGrant, User, utcnow
from .plugin_api import MissionRef, Permission, Role, UserRef
from .plugins import PluginHost
from .roles import HOST_ROLES

log = logging.getLogger(__name__)


def authenticate(
    factory: sessionmaker[Session], username: str, password: str, address: str, now: datetime | None = None
) -> User | throttle.Resting | None:
    """The user; :class:`throttle.Resting` when ``address`` rests after failures; else ``None``: unknown user,
    wrong password, or inactive.

    The caller shows one message for every ``None``, and every case costs one Argon2 verification
    (against a dummy hash when the password is not even checked), so the response time does not
    tell them apart either. An unknown username is throttled exactly as a known one is, so that the
    rest, and the wait it tells, do not tell them apart.

    ``address`` is the client's (:func:`throttle.client_key`): failures slow down the address they
    come from, never the account's owner elsewhere (see :mod:`throttle`).
    """
    now = now or utcnow()
    attempt = throttle.claim(factory, address, username, throttle.PASSWORD, now)
    if isinstance(attempt, throttle.Resting):
        passwords.verify_password(None, password)
        return attempt
    with factory() as s:
        user = s.scalar(sa.select(User).where(User.username == username))
    if user is None:
        passwords.verify_password(None, password)
        return None
    if not passwords.verify_password(user.password_hash, password) or not user.active:
        return None
    throttle.succeeded(factory, attempt)
    return user


def add_user(session: Session, username: str, display_name: str, password_hash: str, is_hq_admin: bool = False) -> User:
    """A new user; hash the password with :func:`passwords.hash_password` first."""
    user = User(username=username, display_name=display_name, password_hash=password_hash, is_hq_admin=is_hq_admin)
    session.add(user)
    session.flush()
    return user


def grant(session: Session, user: User, mission_code: str, role: str) -> None:
    exists = session.scalar(
        sa.select(RoleGrant).where(
            RoleGrant.user_id == user.id, RoleGrant.mission_code == mission_code, RoleGrant.role == role
        )
    )
    if exists is None:
        session.add(RoleGrant(user_id=user.id, mission_code=mission_code, role=role))
        session.flush()


def user_missions(session: Session, user_id: int) -> list[Mission]:
    return list(
        session.scalars(
            sa.select(Mission)
            .where(Mission.code.in_(sa.select(RoleGrant.mission_code).where(RoleGrant.user_id == user_id)))
            .order_by(Mission.code)
        )
    )


def granted_roles(session: Session, user_id: int, mission_code: str) -> set[str]:
    return set(
        session.scalars(
            sa.select(RoleGrant.role).where(RoleGrant.user_id == user_id, RoleGrant.mission_code == mission_code)
        )
    )


def mission_people(
    session: Session, mission_code: str, roles: Iterable[Role]
) -> tuple[tuple[UserRef, frozenset[str]], ...]:
    """The active users granted one of ``roles`` in the mission, by display name, each with the permissions
    those roles give them there: one statement, however many permissions are then asked about."""
    by_name = {role.name: role for role in roles}
    if not by_name:
        return ()
    rows = session.execute(  # columns, not users made objects (their password hashes among them)
        sa.select(User.id, User.username, User.display_name, User.is_hq_admin, RoleGrant.role)
        .join(RoleGrant, RoleGrant.user_id == User.id)
        .where(User.active, RoleGrant.mission_code == mission_code, RoleGrant.role.in_(by_name))
        .order_by(User.display_name, User.username, User.id)
    )
    people: dict[int, tuple[UserRef, set[str]]] = {}
    for user_id, username, display_name, is_hq_admin, role in rows:
        person = people.setdefault(user_id, (UserRef(user_id, username, display_name, is_hq_admin), set()))
        person[1].update(by_name[role].permissions)
    return tuple((ref, frozenset(permissions)) for ref, permissions in people.values())


# -- plugins' roles and permissions -----------------------------------------------------
# A plugin names its roles and permissions "<plugin name>.<something>"; anything else is
# ignored (and logged once), so that no plugin can define or grant the host's permissions
# or another plugin's.


def _owned(plugin: str, name: str) -> bool:
    return name.startswith(f"{plugin}.")


@functools.cache
def _ignore(plugin: str, kind: str, name: str) -> None:
    log.warning("plugin %s: %s %r ignored: its name does not start with %r", plugin, kind, name, f"{plugin}.")


def plugin_permissions(host: PluginHost, plugin_names: Iterable[str] | None = None) -> dict[str, list[Permission]]:
    """Each named plugin's (every active plugin's by default) permissions, its own names only."""
    result: dict[str, list[Permission]] = {}
    for plugin, permissions in host.call_each("mimosa_permissions", names=plugin_names):
        kept = result.setdefault(plugin, [])
        for permission in permissions or ():
            if _owned(plugin, permission.name):
                kept.append(permission)
            else:
                _ignore(plugin, "permission", permission.name)
    return result


def known_roles(host: PluginHost, plugin_names: Iterable[str] | None = None) -> list[Role]:
    """The host's roles and the roles of the named plugins (all active plugins by default).

    A plugin's role counts only when its name is the plugin's, and grants only the
    plugin's own permissions.
    """
    roles = list(HOST_ROLES)
    for plugin, plugin_roles in host.call_each("mimosa_roles", names=plugin_names):
        for role in plugin_roles or ():
            if not _owned(plugin, role.name):
                _ignore(plugin, "role", role.name)
                continue
            for name in role.permissions:
                if not _owned(plugin, name):
                    _ignore(plugin, f"permission of role {role.name}", name)
            roles.append(dataclasses.replace(role, permissions=tuple(p for p in role.permissions if _owned(plugin, p))))
    return roles


def mission_ref(mission: Mission) -> MissionRef:
    return MissionRef(mission.code, mission.name, mission.country)


def user_ref(user: User) -> UserRef:
    return UserRef(user.id, user.username, user.display_name, user.is_hq_admin)
