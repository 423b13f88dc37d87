"""Leases: named locks with an expiry in the ``leases`` table, so one poller at a time owns a folder.

Acquire and renew are one conditional UPDATE (``owner = me OR expired``) or, for a name never seen,
an INSERT guarded by the primary key: atomic on Postgres and SQLite alike, no advisory locks needed.
A holder that dies simply stops renewing; another poller takes the folder over after ``ttl``.
"""

from __future__ import annotations

import os
import socket
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, or_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from worker.db.models import Lease


def new_owner() -> str:
    """A process-unique holder name that also tells a human where it runs."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def folder_lease_name(account: str, folder: str) -> str:
    return f"imap:{account}\x1f{folder}"


def try_acquire(sessions: sessionmaker[Session], name: str, owner: str, ttl_s: float) -> bool:
    """Take or renew the lease ``name`` for ``owner``; False while someone else holds it."""
    now = datetime.now(UTC)
    expires = now + timedelta(seconds=ttl_s)
    with sessions.begin() as session:
        taken = session.execute(
            update(Lease)
            .where(Lease.name == name, or_(Lease.owner == owner, Lease.expires_at < now))
            .values(owner=owner, expires_at=expires)
            .execution_options(synchronize_session=False)
        )
        if getattr(taken, "rowcount", 0) == 1:
            return True
    try:
        with sessions.begin() as session:
            session.add(Lease(name=name, owner=owner, expires_at=expires))
    except IntegrityError:
        return False  # held by another owner (or they inserted first)
    return True


def release(sessions: sessionmaker[Session], name: str, owner: str) -> None:
    """Give the lease up at once (only if still ours)."""
    with sessions.begin() as session:
        session.execute(delete(Lease).where(Lease.name == name, Lease.owner == owner))


class FolderLease:
    """The lease of one (account, folder), renewed by the poller between IMAP commands."""

    def __init__(self, sessions: sessionmaker[Session], account: str, folder: str, ttl_s: float) -> None:
        self.sessions = sessions
        self.name = folder_lease_name(account, folder)
        self.owner = new_owner()
        self.ttl_s = ttl_s
        self.held = False

    @property
    def renew_every_s(self) -> float:
        return self.ttl_s / 3

    def acquire(self) -> bool:
        self.held = try_acquire(self.sessions, self.name, self.owner, self.ttl_s)
        return self.held

    def release(self) -> None:
        if self.held:
            release(self.sessions, self.name, self.owner)
            self.held = False
