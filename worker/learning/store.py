"""Learned models in the database: one versioned row per training of a rule set's classifier.

The retrain task (:mod:`worker.tasks.learning`) saves a new version when the reviews changed; every
worker asks for the newest version number per batch (one indexed ``SELECT max``) and loads the blob
only when it changed, so a review reaches every worker without a restart. Versions count from 1 per
rule set; a decision stores the version that decided it (``decisions.learned_version``).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from worker.db.models import LearnedModelRow
from worker.learning.classifier import LearnedModel


@dataclass(frozen=True)
class Stored:
    version: int
    review_version: str
    model: LearnedModel


def latest_version(session: Session, rule_set_name: str) -> int:
    """The newest version of ``rule_set_name``'s model, 0 when none was trained."""
    value = session.scalar(
        select(func.max(LearnedModelRow.version)).where(LearnedModelRow.rule_set_name == rule_set_name)
    )
    return int(value or 0)


def load_latest(session: Session, rule_set_name: str) -> Stored | None:
    row = session.scalars(
        select(LearnedModelRow)
        .where(LearnedModelRow.rule_set_name == rule_set_name)
        .order_by(LearnedModelRow.version.desc())
        .limit(1)
    ).first()
    if row is None:
        return None
    model = LearnedModel.from_bytes(row.blob)
    model.version = row.version
    return Stored(row.version, row.review_version, model)


def save(session: Session, rule_set_name: str, model: LearnedModel, *, review_version: str) -> int:
    """Add ``model`` as the next version of ``rule_set_name``; returns that version (the caller commits)."""
    version = latest_version(session, rule_set_name) + 1
    model.version = version
    session.add(
        LearnedModelRow(
            rule_set_name=rule_set_name,
            version=version,
            review_version=review_version,
            n_examples=model.n_examples,
            cv_accuracy=model.cv_accuracy,
            ece=model.ece,
            blob=model.to_bytes(),
        )
    )
    session.flush()
    return version


def history(session: Session, rule_set_name: str | None = None, *, limit: int = 20) -> list[LearnedModelRow]:
    """The newest rows (all rule sets unless one is named), for the admin."""
    query = select(LearnedModelRow).order_by(LearnedModelRow.id.desc()).limit(limit)
    if rule_set_name is not None:
        query = query.where(LearnedModelRow.rule_set_name == rule_set_name)
    return list(session.scalars(query))
