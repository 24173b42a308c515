"""An optional second factor per user: TOTP (RFC 6238, through pyotp) and ten single-use recovery codes.

A user enrols by confirming a code from their authenticator app; only then does sign-in ask for a
code after the password. Recovery codes are shown once and kept as Argon2 hashes, each accepted
once. An HQ administrator can reset a user's second factor (a lost phone); the reset is recorded
in ``admin_action``. Which users must enrol is a host setting (:data:`REQUIRED_ENV`).
"""

from __future__ import annotations

import hmac
import secrets
from datetime import datetime

import pyotp
import sqlalchemy as sa
from sqlalchemy.orm import Session

from . import passwords, sealing
from .models import AdminAction, RecoveryCode, RoleGrant, User

REQUIRED_ENV = "MIMOSA_REQUIRE_SECOND_FACTOR_FOR"
REQUIRED_DEFAULT = "hq,admin"
"""HQ administrators and mission administrators must enrol, unless the setting says otherwise."""
HQ, ADMIN = "hq", "admin"
MISSION_ADMIN_ROLE = "host.mission_admin"
ISSUER = "MiMOSA"
RECOVERY_CODES = 10
RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
"""No 0/o, 1/l/i: a code copied from paper is read back as written."""
RECOVERY_LENGTH = 10
VALID_WINDOW = 1
"""Codes of the previous and next 30-second step are accepted too: phones' clocks drift."""
RESET = "second_factor_reset"
_SECRET = ("user_account", "totp_secret")
"""Where a TOTP secret lives: it is sealed at rest like the host's other secrets (sealing.py)."""
"""The :class:`AdminAction` recorded when an administrator resets a user's second factor."""


def required_groups(setting: str) -> frozenset[str]:
    """The groups named by the setting (``"hq,admin"``, ``"hq"``, ``""`` for nobody); anything else is refused."""
    groups = frozenset(part.strip() for part in setting.split(",") if part.strip())
    if not groups <= {HQ, ADMIN}:
        raise ValueError(f"{REQUIRED_ENV} may name only {HQ!r} and {ADMIN!r}, separated by commas")
    return groups


def enrolled(user: User) -> bool:
    return user.second_factor_since is not None


def must_enrol(s: Session, user: User, groups: frozenset[str]) -> bool:
    """Whether the user must enrol before using the site: an HQ or a mission administrator, as the setting says."""
    if enrolled(user):
        return False
    if HQ in groups and user.is_hq_admin:
        return True
    if ADMIN in groups:
        held = sa.select(RoleGrant.id).where(RoleGrant.user_id == user.id, RoleGrant.role == MISSION_ADMIN_ROLE)
        return s.scalar(held.limit(1)) is not None
    return False


def begin_enrolment(s: Session, user: User) -> None:
    """A new secret waiting for its first code; it replaces a secret never confirmed."""
    if enrolled(user):
        raise ValueError("already enrolled")
    user.totp_secret = sealing.seal(pyotp.random_base32(), sealing.associated_data(*_SECRET, user.id))


def shared_secret(user: User) -> str | None:
    """The user's TOTP secret in clear; ``None`` when there is none or it cannot be opened (logged by sealing)."""
    return None if user.totp_secret is None else sealing.opened(user.totp_secret, *_SECRET, user.id)


def provisioning_uri(user: User) -> str:
    """The ``otpauth://`` URI an authenticator app reads; it holds the secret."""
    secret = shared_secret(user)
    assert secret is not None
    return pyotp.TOTP(secret).provisioning_uri(name=user.username, issuer_name=ISSUER)


def confirm(s: Session, user: User, code: str, now: datetime) -> list[str] | None:
    """Enrol the user if ``code`` is their app's; their new recovery codes, to be shown once (else ``None``)."""
    if enrolled(user) or user.totp_secret is None or not _accept_totp(s, user, code, now):
        return None
    user.second_factor_since = now
    codes = ["".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_LENGTH)) for _ in range(RECOVERY_CODES)]
    s.execute(sa.delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    s.add_all(RecoveryCode(user_id=user.id, code_hash=passwords.hash_password(code)) for code in codes)
    return [f"{code[:5]}-{code[5:]}" for code in codes]


def accept(s: Session, user: User, code: str, now: datetime) -> bool:
    """Whether ``code`` is a code of the user's app not used before, or one of their recovery codes (used up now)."""
    if not enrolled(user):
        return False
    typed = "".join(code.split()).replace("-", "").lower()
    if typed.isdigit():
        return _accept_totp(s, user, typed, now)
    if len(typed) != RECOVERY_LENGTH:
        return False
    for stored in s.scalars(sa.select(RecoveryCode).where(RecoveryCode.user_id == user.id)):
        if passwords.verify_password(stored.code_hash, typed):
            # Deleted by id: of two requests racing with the same code, one deletes it, the other finds nothing.
            used = s.execute(sa.delete(RecoveryCode).where(RecoveryCode.id == stored.id))
            return used.rowcount == 1  # type: ignore[attr-defined]  # a DELETE's result is a CursorResult
    return False


def recovery_codes_left(s: Session, user: User) -> int:
    return s.scalar(sa.select(sa.func.count()).where(RecoveryCode.user_id == user.id)) or 0


def reset(s: Session, user: User, actor: str, now: datetime) -> None:
    """Forget the user's second factor (they enrol again at next sign-in if they must), recorded as ``actor``'s."""
    user.totp_secret = None
    user.second_factor_since = None
    user.totp_last_step = None
    s.execute(sa.delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    s.add(AdminAction(at=now, actor=actor, action=RESET, target=user.username))


def _accept_totp(s: Session, user: User, code: str, now: datetime) -> bool:
    """Whether ``code`` is the user's app's for a step around ``now`` later than the last accepted one.

    The step is recorded by a conditional update: of two requests racing with the same code, one wins.
    """
    secret = shared_secret(user)
    if secret is None:
        return False
    totp = pyotp.TOTP(secret)
    current = totp.timecode(now)
    for step in range(current - VALID_WINDOW, current + VALID_WINDOW + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            taken = s.execute(
                sa.update(User)
                .where(User.id == user.id, sa.or_(User.totp_last_step.is_(None), User.totp_last_step < step))
                .values(totp_last_step=step)
                .execution_options(synchronize_session=False)
            )
            if taken.rowcount == 1:  # type: ignore[attr-defined]  # an UPDATE's result is a CursorResult
                user.totp_last_step = step
                return True
            return False
    return False
