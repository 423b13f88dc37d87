"""Leases: named locks with an expiry in the ``leases`` table, so one poller at a time owns a folder.

Acquire and renew are one conditional UPDATE (``owner = me OR expired``) or, for a name never seen,
an INSERT guarded by the primary key: atomic on Postgres and SQLite alike, no advisory locks needed.
A holder that dies simply stops renewing; another poller takes the folder over after ``ttl`` (15 s by
default). A live holder never loses it to a slow IMAP command: :class:`LeaseHeartbeat` renews it every
``ttl/3`` from its own thread while the holder shows progress, and the holder checks before each batch
that the lease is still :attr:`FolderLease.fresh` (a third of ``ttl`` left), so two pollers never fetch
one folder. A stuck holder stops showing progress, its lease runs out, and ``mailroute healthcheck
poller`` reports it.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, or_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from worker.db.models import Lease

log = logging.getLogger(__name__)


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
        self.renewed_at = 0.0  # time.monotonic() of the last successful acquire or renewal
        self._lock = threading.Lock()  # the holder's thread and its heartbeat

    @property
    def renew_every_s(self) -> float:
        return self.ttl_s / 3

    @property
    def fresh(self) -> bool:
        """Held, and at least a third of the TTL is left before anyone else could take it."""
        return self.held and time.monotonic() - self.renewed_at < self.ttl_s * 2 / 3

    def acquire(self) -> bool:
        with self._lock:
            return self._acquire()

    def renew_if_held(self) -> None:
        """The heartbeat's renewal: only while held (never re-takes a released or lost lease)."""
        with self._lock:
            if self.held:
                self._acquire()

    def _acquire(self) -> bool:
        started = time.monotonic()
        self.held = try_acquire(self.sessions, self.name, self.owner, self.ttl_s)
        if self.held:
            self.renewed_at = started
        return self.held

    def release(self) -> None:
        with self._lock:
            if self.held:
                self.held = False
                release(self.sessions, self.name, self.owner)


class LeaseHeartbeat(threading.Thread):
    """Renews ``lease`` every ``ttl/3`` while ``alive()`` says its holder still makes progress."""

    def __init__(self, lease: FolderLease, *, alive: Callable[[], bool]) -> None:
        super().__init__(name=f"lease:{lease.name}", daemon=True)
        self.lease, self.alive = lease, alive
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(self.lease.renew_every_s):
            if not self.alive():
                continue  # a stuck holder: let the lease run out so another poller takes over
            try:
                self.lease.renew_if_held()
            except Exception as e:  # the database is away: the holder sees the lease go stale
                log.warning("lease %s: renewal failed (%s)", self.lease.name, type(e).__name__)

    def stop(self) -> None:
        self.done.set()
