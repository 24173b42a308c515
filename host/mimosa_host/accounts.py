"""Users, their missions and permissions, and login with a per-account slow-down."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from . import passwords
from .enablement import enabled_plugins
from .models import Mission, RoleGrant, User, utcnow
from .plugin_api import MissionRef, RequestContext, UserRef
from .plugins import PluginHost
from .roles import HOST_ROLES, permissions_for


def authenticate(session: Session, username: str, password: str, now: datetime | None = None) -> User | None:
    """The user, or ``None``: unknown user, wrong password, inactive, or resting after failures.

    The caller shows one generic message in every case. A resting account is not even
    checked, so guessing gains nothing while it rests; each failure lengthens the rest.
    """
    now = now or utcnow()
    user = session.scalar(sa.select(User).where(User.username == username))
    if user is not None:
        until = passwords.locked_until(user.failed_logins, user.last_failed_login)
        if until is not None and now < _aware(until):
            return None
    if not passwords.verify_password(user.password_hash if user else None, password) or not user.active:
        if user is not None:
            user.failed_logins += 1
            user.last_failed_login = now
        return None
    user.failed_logins = 0
    user.last_failed_login = None
    return user


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


def known_roles(host: PluginHost, plugin_names: set[str] | None = None) -> list:
    """The host's roles and the roles of the named plugins (all active plugins by default)."""
    roles = list(HOST_ROLES)
    for _name, plugin_roles in host.call_each("mimosa_roles", names=plugin_names):
        roles.extend(plugin_roles or ())
    return roles


def mission_ref(mission: Mission) -> MissionRef:
    return MissionRef(mission.code, mission.name, mission.country)


def user_ref(user: User) -> UserRef:
    return UserRef(user.id, user.username, user.display_name, user.is_hq_admin)


def build_context(
    session: Session,
    host: PluginHost,
    factory: sessionmaker[Session],
    mission: Mission,
    user: User | None,
    locale: str,
    csrf_token: Callable[[], str] = lambda: "",
) -> tuple[RequestContext, set[str]]:
    """The request context for ``user`` in ``mission``, and the plugins enabled there.

    With no user (a job), the context holds every permission the enabled plugins declare.
    """
    enabled = enabled_plugins(session, mission.code) & set(host.active_names)
    if user is None:
        permissions = frozenset(
            p.name for _n, perms in host.call_each("mimosa_permissions", names=enabled) for p in perms or ()
        )
    else:
        permissions = permissions_for(granted_roles(session, user.id, mission.code), known_roles(host, enabled))
    ctx = RequestContext(
        mission=mission_ref(mission),
        locale=locale,
        permissions=permissions,
        session_factory=factory,
        user=user_ref(user) if user else None,
        csrf_token=csrf_token,
    )
    return ctx, enabled
