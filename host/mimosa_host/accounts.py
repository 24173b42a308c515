"""Users, their missions and permissions, and login with a per-account slow-down."""

from __future__ import annotations

import dataclasses
import functools
import logging
from collections.abc import Iterable
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from . import passwords
from .models import Mission, RoleGrant, User, utcnow
from .plugin_api import MissionRef, Permission, Role, UserRef
from .plugins import PluginHost
from .roles import HOST_ROLES

log = logging.getLogger(__name__)


def authenticate(
    factory: sessionmaker[Session], username: str, password: str, now: datetime | None = None
) -> User | None:
    """The user, or ``None``: unknown user, wrong password, inactive, or resting after failures.

    The caller shows one generic message in every case, and every case costs one Argon2
    verification (against a dummy hash when the password is not even checked), so the
    response time does not tell them apart either.

    Each attempt on a known account that is not resting first claims a slot: it counts
    itself as a failure, in its own committed transaction, by a compare-and-swap on the
    failure count it read. Only then is the password checked, and a success resets the
    count. Parallel attempts therefore cannot slip past the count: an attempt whose
    swap finds the count already moved (another attempt is in flight) is refused, and
    an attempt that sees the account resting is refused unchecked.
    """
    now = now or utcnow()
    with factory() as s:
        user = s.scalar(sa.select(User).where(User.username == username))
    if user is None or _resting(user, now) or not _claim(factory, user, now):
        passwords.verify_password(None, password)
        return None
    if not passwords.verify_password(user.password_hash, password) or not user.active:
        return None
    with factory.begin() as s:
        s.execute(sa.update(User).where(User.id == user.id).values(failed_logins=0, last_failed_login=None))
    user.failed_logins, user.last_failed_login = 0, None
    return user


def _resting(user: User, now: datetime) -> bool:
    until = passwords.locked_until(user.failed_logins, user.last_failed_login)
    return until is not None and now < _aware(until)


def _claim(factory: sessionmaker[Session], user: User, now: datetime) -> bool:
    """Count this attempt as a failure unless another attempt has moved the count since it was read."""
    with factory.begin() as s:
        claimed = s.execute(
            sa.update(User)
            .where(User.id == user.id, User.failed_logins == user.failed_logins)
            .values(failed_logins=User.failed_logins + 1, last_failed_login=now)
            .execution_options(synchronize_session=False)
        ).rowcount  # type: ignore[attr-defined]  # Session.execute is typed Result; an UPDATE's is a CursorResult
    return claimed == 1


def _aware(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes for timezone-aware columns; they were stored as UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


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


def users_holding(session: Session, mission_code: str, roles: Iterable[Role], permission: str) -> tuple[UserRef, ...]:
    """The active users holding ``permission`` in the mission through one of ``roles``, by display name."""
    holding = [role.name for role in roles if permission in role.permissions]
    if not holding:
        return ()
    granted = sa.select(RoleGrant.user_id).where(RoleGrant.mission_code == mission_code, RoleGrant.role.in_(holding))
    users = session.scalars(
        sa.select(User).where(User.active, User.id.in_(granted)).order_by(User.display_name, User.username)
    )
    return tuple(user_ref(user) for user in users)


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
