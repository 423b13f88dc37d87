"""What decides and what it learns from: published rule-set versions, reviewers' corrections and the
learned classifiers trained on them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
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
from sqlalchemy.orm import Mapped, mapped_column

from worker.db.models.base import Base, utcnow


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


class MailVector(Base):
    """A decided mail's CPU-model embedding and the probabilities it was decided with: the memory of
    recent traffic that a learned model pools with (:mod:`worker.learning.memory`)."""

    __tablename__ = "mail_vectors"
    __table_args__ = (Index("ix_mail_vectors_rule_set_message", "rule_set_name", "message_id"),)

    message_id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"),
        ForeignKey("messages.id", ondelete="CASCADE"),
        primary_key=True,
        autoincrement=False,
    )
    rule_set_name: Mapped[str] = mapped_column(String(255))
    columns: Mapped[str] = mapped_column(String(16))  # neighbours.fingerprint of the categories
    vector: Mapped[bytes] = mapped_column(LargeBinary)  # float16, unit length
    probs: Mapped[bytes] = mapped_column(LargeBinary)  # float32, K + 1 columns ("none" last)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
