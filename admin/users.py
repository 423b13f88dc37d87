"""Users of the admin and their API tokens, kept in the database; every change is audited.

Contract: passwords are stored as scrypt hashes (``admin.auth.hash_password``), API tokens as their
SHA-256 only (a token is shown once, when issued; revoking keeps the row, refused from then on). A
disabled user can neither log in nor use a token. The single-admin settings
(``MAILROUTE_ADMIN_USERNAME`` + ``MAILROUTE_ADMIN_PASSWORD_HASH``) still work: the first login with them
creates that admin as a user (:func:`bootstrap_admin`), who can then add the others. Plain functions
over a session; the caller commits.
"""

from __future__ import annotations

import functools
import hashlib
import secrets
from collections.abc import Callable, Sequence

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from admin.auth import hash_password, verify_password
from admin.scope import ALL_PROFILES
from worker.core.errors import InputError
from worker.core.settings import Settings
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
    chosen = sorted({p.strip() for p in profiles if p.strip()}) or [ALL_PROFILES]
    user = User(username=username, password_hash=hash_password(password), role=role, profiles=chosen)
    session.add(user)
    session.flush()
    after = {"role": role, "profiles": chosen}
    audit.record(session, actor=actor, action="user.add", subject=f"user:{username}", after=after)
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


def bootstrap_admin(session: Session, settings: Settings) -> User | None:
    """The settings' admin as a user (created on first use); None when the settings name none."""
    if settings.admin_password_hash is None:
        return None
    found = session.scalars(select(User).where(User.username == settings.admin_username)).first()
    if found is not None:
        return found
    user = User(
        username=settings.admin_username,
        password_hash=settings.admin_password_hash.get_secret_value(),
        role=Role.ADMIN,
        profiles=[ALL_PROFILES],
    )
    session.add(user)
    session.flush()
    audit.record(
        session, actor="settings", action="user.add", subject=f"user:{user.username}", after={"role": "admin"}
    )
    return user


@functools.cache
def _dummy_hash() -> str:
    return hash_password("no such user", salt=bytes(16))


def by_password(session: Session, settings: Settings, username: str, password: str) -> User | None:
    """The enabled user ``username`` when ``password`` is theirs, else None."""
    if username == settings.admin_username:
        bootstrap_admin(session, settings)
    user = session.scalars(select(User).where(User.username == username)).first()
    if user is None:
        verify_password(password, _dummy_hash())  # the same work for unknown names
        return None
    if user.disabled or not verify_password(password, user.password_hash):
        return None
    user.last_login_at = utcnow()
    return user


def by_token(session: Session, token: str) -> User | None:
    """The enabled owner of an unrevoked ``token`` (its last use noted), else None."""
    row = session.scalars(select(ApiToken).where(ApiToken.token_hash == token_hash(token))).first()
    if row is None or row.revoked_at is not None:
        return None
    user = session.get(User, row.user_id)
    if user is None or user.disabled:
        return None
    row.last_used_at = utcnow()
    return user


def any_user(session_factory: Callable[[], Session]) -> bool:
    """Whether the database holds a user (so logging in is possible without the settings' admin)."""
    try:
        with session_factory() as session:
            return session.scalars(select(User.id).limit(1)).first() is not None
    except SQLAlchemyError:
        return False
