"""Polling state: the per-folder cursor of the last UID taken in, and the leases that keep one poller
per (account, folder)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from worker.db.models.base import Base, utcnow


class PollCursor(Base):
    __tablename__ = "poll_cursors"
    __table_args__ = (UniqueConstraint("account", "folder", name="uq_cursor_folder"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account: Mapped[str] = mapped_column(String(255))
    folder: Mapped[str] = mapped_column(String(1024))
    uidvalidity: Mapped[int | None] = mapped_column(BigInteger)
    last_uid: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)


class Lease(Base):
    """A named lock with an expiry: one poller per (account, folder) at a time."""

    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(1024), primary_key=True)
    owner: Mapped[str] = mapped_column(String(255))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
