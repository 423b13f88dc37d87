"""The mail ledger: every stored message, the scores it got and the decisions taken on it.

A message row exists before its cursor advances; a decision is unique per (message, mode); a failed
message keeps its error and stays retryable.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from worker.db.models.base import DEFAULT_PROFILE, Base, utcnow

if TYPE_CHECKING:
    from worker.db.models.outbox import Action


class MessageStatus:
    RECEIVED = "received"  # stored, waiting to be classified
    DECIDED = "decided"
    FAILED = "failed"  # error kept in Message.error; retryable


class Message(Base):
    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("dedup_key", name="uq_messages_dedup_key"),
        Index("ix_messages_status", "status"),
        Index("ix_messages_source", "account", "folder", "uidvalidity", "uid"),
        Index("ix_messages_profile", "profile"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    account: Mapped[str] = mapped_column(String(255))
    folder: Mapped[str] = mapped_column(String(1024))
    # the routing profile (whose rule set decides it), resolved from (account, folder) at store time
    profile: Mapped[str] = mapped_column(String(255), default=DEFAULT_PROFILE, server_default=DEFAULT_PROFILE)
    uidvalidity: Mapped[int | None] = mapped_column(BigInteger)
    uid: Mapped[int | None] = mapped_column(BigInteger)
    dedup_key: Mapped[str] = mapped_column(String(128))
    message_id: Mapped[str | None] = mapped_column(Text)
    message_id_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    content_hash: Mapped[str] = mapped_column(String(64), index=True)
    subject: Mapped[str] = mapped_column(Text, default="")
    # the normalised subject (worker.store.boilerplate.normalise), written with subject when decided
    subject_key: Mapped[str | None] = mapped_column(Text)
    sender: Mapped[str] = mapped_column(Text, default="")
    recipients: Mapped[list[Any]] = mapped_column(default=list)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    list_id: Mapped[str | None] = mapped_column(Text)
    headers: Mapped[dict[str, Any]] = mapped_column(default=dict)
    raw: Mapped[bytes] = mapped_column(LargeBinary)
    size: Mapped[int] = mapped_column(BigInteger, default=0)
    truncated: Mapped[bool] = mapped_column(Boolean, default=False)
    body_text: Mapped[str | None] = mapped_column(Text)
    clean_text: Mapped[str | None] = mapped_column(Text)
    parse_warnings: Mapped[list[Any]] = mapped_column(default=list)
    status: Mapped[str] = mapped_column(String(16), default=MessageStatus.RECEIVED)
    error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    scores: Mapped[list[Score]] = relationship(back_populates="message", cascade="all, delete-orphan")
    decisions: Mapped[list[Decision]] = relationship(back_populates="message", cascade="all, delete-orphan")
    actions: Mapped[list[Action]] = relationship(back_populates="message", cascade="all, delete-orphan")


class Score(Base):
    __tablename__ = "scores"
    __table_args__ = (
        UniqueConstraint("message_id", "label", "model_id", "rule_set_hash", name="uq_scores_pair"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    # no index of its own: uq_scores_pair leads with message_id
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"))
    label: Mapped[str] = mapped_column(String(255))
    score: Mapped[float] = mapped_column(Float)
    model_id: Mapped[str] = mapped_column(String(255))
    rule_set_hash: Mapped[str] = mapped_column(String(64))
    template_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    message: Mapped[Message] = relationship(back_populates="scores")


class Decision(Base):
    __tablename__ = "decisions"
    __table_args__ = (UniqueConstraint("message_id", "mode", name="uq_decisions_message_mode"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    # no index of its own: uq_decisions_message_mode leads with message_id
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"))
    mode: Mapped[str] = mapped_column(String(16), default="live")  # live | shadow
    rule_set_name: Mapped[str] = mapped_column(String(255))
    rule_set_hash: Mapped[str] = mapped_column(String(64))
    rule_set_version: Mapped[int | None] = mapped_column(Integer)  # the published version, when versioned
    model_id: Mapped[str] = mapped_column(String(255))
    labels: Mapped[list[Any]] = mapped_column(default=list)
    needs_review: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    review_state: Mapped[str] = mapped_column(String(16), default="none")  # none|pending|approved|corrected
    top_score: Mapped[float] = mapped_column(Float, default=0.0)
    margin: Mapped[float] = mapped_column(Float, default=0.0)
    reasons: Mapped[list[Any]] = mapped_column(default=list)
    learned_version: Mapped[int | None] = mapped_column(Integer)  # the LearnedModelRow.version that decided
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    reviewed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reviewed_by: Mapped[str | None] = mapped_column(String(255))

    message: Mapped[Message] = relationship(back_populates="decisions")
