"""Users of the admin and their API tokens, kept in the database; every change is audited.

Contract: passwords are stored as scrypt hashes (``admin.auth.hash_password``), API tokens as their
SHA-256 only (a token is shown once, when issued; revoking keeps the row, refused from then on). A
disabled user can neither log in nor use a token. The single-admin settings
(``MAILROUTE_ADMIN_USERNAME`` + ``MAILROUTE_ADMIN_PASSWORD_HASH``) still work: the first login with them
creates that admin as a user (``admin.identity.bootstrap_admin``), who can then add the others. Plain
functions over a session; the caller commits.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from admin.auth import hash_password
from admin.scope import ALL_PROFILES
from worker.core.errors import InputError
from worker.db import audit
from worker.db.models import ApiToken, Role, User, utcnow

TOKEN_PREFIX = "mrt_"  # noqa: S105 - a prefix, not a secret
MIN_PASSWORD = 10


class UserError(InputError):
    """A user change cannot be made: unknown user or role, a name taken, a password too short."""


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def get_user(session: Session, username: str) -> User:
    user = session.scalars(select(User).where(User.username == username)).first()
    if user is None:
        raise UserError(f"no user {username!r}")
    return user


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise UserError(f"use a password of at least {MIN_PASSWORD} characters")


def add_user(
    session: Session, username: str, password: str, *, role: str, profiles: Sequence[str], actor: str
) -> User:
    """A new enabled user; ``profiles`` are the profiles they may see (``*``: all)."""
    username = username.strip()
    if not username or len(username) > 255:
        raise UserError("a user name is 1 to 255 characters")
    if role not in Role.ORDER:
        raise UserError(f"role must be one of {', '.join(Role.ORDER)}, not {role!r}")
    if session.scalars(select(User.id).where(User.username == username)).first() is not None:
        raise UserError(f"user {username!r} exists already")
    _check_password(password)
    chosen = _profiles(profiles)
    user = User(username=username, password_hash=hash_password(password), role=role, profiles=chosen)
    session.add(user)
    session.flush()
    after = {"role": role, "profiles": chosen}
    audit.record(session, actor=actor, action="user.add", subject=f"user:{username}", after=after)
    return user


def _profiles(profiles: Sequence[str]) -> list[str]:
    return sorted({p.strip() for p in profiles if p.strip()}) or [ALL_PROFILES]


def set_role(session: Session, username: str, role: str, profiles: Sequence[str], *, actor: str) -> User:
    """Change what a user may do and see."""
    user = get_user(session, username)
    if role not in Role.ORDER:
        raise UserError(f"role must be one of {', '.join(Role.ORDER)}, not {role!r}")
    before = {"role": user.role, "profiles": list(user.profiles)}
    user.role, user.profiles = role, _profiles(profiles)
    after = {"role": role, "profiles": user.profiles}
    audit.record(
        session, actor=actor, action="user.role", subject=f"user:{username}", before=before, after=after
    )
    return user


def set_disabled(session: Session, username: str, *, disabled: bool, actor: str) -> User:
    user = get_user(session, username)
    before = {"disabled": user.disabled}
    user.disabled = disabled
    action = "user.disable" if disabled else "user.enable"
    after = {"disabled": disabled}
    audit.record(session, actor=actor, action=action, subject=f"user:{username}", before=before, after=after)
    return user


def reset_password(session: Session, username: str, password: str, *, actor: str) -> User:
    user = get_user(session, username)
    _check_password(password)
    user.password_hash = hash_password(password)
    audit.record(session, actor=actor, action="user.reset_password", subject=f"user:{username}")
    return user


def issue_token(session: Session, username: str, *, name: str, actor: str) -> str:
    """A new API token for ``username``; returns the token itself (only its hash is stored)."""
    user = get_user(session, username)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(user_id=user.id, name=name[:255], token_hash=token_hash(token), prefix=token[:10])
    session.add(row)
    session.flush()
    after = {"token": row.id, "name": row.name, "prefix": row.prefix}
    audit.record(session, actor=actor, action="user.token", subject=f"user:{username}", after=after)
    return token


def revoke_token(session: Session, token_id: int, *, actor: str) -> ApiToken:
    row = session.get(ApiToken, token_id)
    if row is None:
        raise UserError(f"no token {token_id}")
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        owner = session.get(User, row.user_id)
        subject = f"user:{owner.username if owner else row.user_id}"
        after = {"token": row.id, "prefix": row.prefix}
        audit.record(session, actor=actor, action="user.token_revoke", subject=subject, after=after)
    return row


def tokens_of(session: Session, user_id: int) -> list[ApiToken]:
    return list(session.scalars(select(ApiToken).where(ApiToken.user_id == user_id).order_by(ApiToken.id)))
