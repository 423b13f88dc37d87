"""Who is logging in or calling the API: password and token checks, and the bootstrap admin.

Contract: :func:`by_password` and :func:`by_token` return the enabled user (noting the login or the
token's last use) or None — never why, so a caller cannot tell a wrong name from a wrong password.
The settings' single admin (``MAILROUTE_ADMIN_USERNAME`` + ``MAILROUTE_ADMIN_PASSWORD_HASH``) becomes
a database user at its first use (:func:`bootstrap_admin`). The caller commits.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from admin.auth import hash_password, verify_password
from admin.scope import ALL_PROFILES
from admin.users import token_hash
from worker.core.settings import Settings
from worker.db import audit
from worker.db.models import ApiToken, Role, User, utcnow


@functools.cache
def _dummy_hash() -> str:
    return hash_password("no such user", salt=bytes(16))


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
