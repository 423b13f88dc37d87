"""The action outbox: one row per effect of a decision, unique per (message, kind, target), and the
log of every attempt to carry it out. A failed row keeps its error and stays retryable."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import BigInteger, DateTime, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from worker.db.models.base import Base, new_key, utcnow

if TYPE_CHECKING:
    from worker.db.models.messages import Message


class ActionStatus:
    PENDING = "pending"
    DONE = "done"
    FAILED = "failed"  # retryable; last_error kept
    DEAD = "dead"  # gave up after the maximum attempts; can be re-queued from the admin
    SKIPPED = "skipped"  # not applicable (e.g. an IMAP action for a mail imported from a file)


class Action(Base):
    """The outbox: one row per effect. ``desired`` says whether the effect should be present."""

    __tablename__ = "actions"
    __table_args__ = (
        UniqueConstraint("message_id", "kind", "target", name="uq_actions_effect"),
        Index("ix_actions_status", "status"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    # no index of its own: uq_actions_effect leads with message_id
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    target: Mapped[str] = mapped_column(String(1024))
    params: Mapped[dict[str, Any]] = mapped_column(default=dict)
    category: Mapped[str | None] = mapped_column(String(255))
    desired: Mapped[str] = mapped_column(String(8), default="present")  # present | absent
    key: Mapped[str] = mapped_column(String(32), default=new_key, unique=True)  # Idempotency-Key
    status: Mapped[str] = mapped_column(String(16), default=ActionStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
    done_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    message: Mapped[Message] = relationship(back_populates="actions")
    attempts_log: Mapped[list[ActionAttempt]] = relationship(
        back_populates="action", cascade="all, delete-orphan", order_by="ActionAttempt.id"
    )


class ActionAttempt(Base):
    """Every try of an action (webhook deliveries in particular), with its outcome."""

    __tablename__ = "action_attempts"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    action_id: Mapped[int] = mapped_column(ForeignKey("actions.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    outcome: Mapped[str] = mapped_column(String(16))  # ok | retry | failed | dead
    status_code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    duration_ms: Mapped[float] = mapped_column(Float, default=0.0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    action: Mapped[Action] = relationship(back_populates="attempts_log")
