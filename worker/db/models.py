"""SQLAlchemy 2.0 models: the ledger of every mail, its scores, decision, actions and reviews.

Status columns make every step restartable: a message row exists before its cursor advances, a
decision is unique per message, an action row is unique per (message, kind, target), and a failed
row keeps its error and stays retryable.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
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
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_key() -> str:
    return uuid.uuid4().hex


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSON, list[Any]: JSON}


DEFAULT_PROFILE = "default"  # the profile of mail no account/folder maps elsewhere (MAILROUTE_RULES_PATH)


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
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"), index=True)
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
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"), index=True)
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
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"), index=True)
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


class Correction(Base):
    __tablename__ = "corrections"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"), index=True)
    reviewer: Mapped[str] = mapped_column(String(255))
    old_labels: Mapped[list[Any]] = mapped_column(default=list)
    new_labels: Mapped[list[Any]] = mapped_column(default=list)
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)


class LearnedModelRow(Base):
    """One trained version of a rule set's learned classifier (``worker.learning.classifier``)."""

    __tablename__ = "learned_models"
    __table_args__ = (UniqueConstraint("rule_set_name", "version", name="uq_learned_models_version"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    rule_set_name: Mapped[str] = mapped_column(String(255), index=True)
    version: Mapped[int] = mapped_column(Integer)
    review_version: Mapped[str] = mapped_column(String(64))  # the corrections it was trained on
    n_examples: Mapped[int] = mapped_column(Integer)
    cv_accuracy: Mapped[float | None] = mapped_column(Float)
    ece: Mapped[float | None] = mapped_column(Float)
    blob: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


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


class Role:
    """What a user may do: read; approve and correct in their profiles; everything (rules, users)."""

    VIEWER = "viewer"
    REVIEWER = "reviewer"
    ADMIN = "admin"
    ORDER = (VIEWER, REVIEWER, ADMIN)


class User(Base):
    """A person of the admin: a scrypt password hash, a role and the profiles they are given."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(255), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16), default=Role.VIEWER)
    profiles: Mapped[list[Any]] = mapped_column(default=list)  # ["*"]: every profile
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ApiToken(Base):
    """A user's API token: only its SHA-256 is stored; revoked tokens stay listed."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(255), default="")
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))  # the first characters, to recognise it in a list
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class AuditEvent(Base):
    """Who did what, when, to what — with the state before and after. Rows are never changed."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(255), index=True)
    action: Mapped[str] = mapped_column(String(64), index=True)  # e.g. review.correct, user.add, login
    subject: Mapped[str] = mapped_column(String(255), default="")  # e.g. message:12, user:dana
    before: Mapped[dict[str, Any]] = mapped_column(default=dict)
    after: Mapped[dict[str, Any]] = mapped_column(default=dict)


class RuleSetVersion(Base):
    """One published version of a profile's rule set: the YAML as published, who, when and why.

    Versions are never changed or deleted; the live version of a profile is its highest one (a
    rollback publishes an old YAML again as a new version), so a worker's check is one ``max()``.
    """

    __tablename__ = "rule_set_versions"
    __table_args__ = (UniqueConstraint("profile", "version", name="uq_rule_set_versions_profile_version"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    profile: Mapped[str] = mapped_column(String(255))
    version: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(255))  # the rule set's own name (learned state is keyed by it)
    digest: Mapped[str] = mapped_column(String(64))
    yaml: Mapped[str] = mapped_column(Text)
    author: Mapped[str] = mapped_column(String(255))
    message: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
