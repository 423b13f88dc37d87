"""The reviewed history, read from the database: what learned thresholds and classifiers learn from.

A reviewed mail is a message with at least one :class:`Correction` row (approvals are rows too, with
equal old and new labels). Its *proposed* labels are the first review's ``old_labels`` (what the
router decided), its *final* labels the last review's ``new_labels`` (what the reviewers settled on),
its scores those saved with its live decision (same model and rule-set hash).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from rules import RuleSet
from worker.core.settings import Settings
from worker.db.models import Correction, Decision, Message, Score
from worker.learning.thresholds import LearnedThreshold, learn_thresholds
from worker.parsing.message import parse_message
from worker.store.boilerplate import DEFAULT_MIN_SHARED, keep_subjects

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Reviewed:
    message_id: int
    proposed: tuple[str, ...]
    final: tuple[str, ...]
    scores: dict[str, float]


def reviewed_mails(session: Session, *, rule_set_name: str | None = None) -> list[Reviewed]:
    """Every reviewed message (decided by the rule set named ``rule_set_name``, when given), in
    review order of its first review."""
    first: dict[int, list[str]] = {}
    last: dict[int, list[str]] = {}
    query = select(Correction.message_id, Correction.old_labels, Correction.new_labels)
    if rule_set_name is not None:  # learned state is per rule set: one profile never learns from another
        query = query.join(
            Decision, (Decision.message_id == Correction.message_id) & (Decision.mode == "live")
        ).where(Decision.rule_set_name == rule_set_name)
    for message_id, old, new in session.execute(query.order_by(Correction.id)):
        first.setdefault(message_id, list(old or []))
        last[message_id] = list(new or [])
    scores: dict[int, dict[str, float]] = {mid: {} for mid in first}
    query = (
        select(Score.message_id, Score.label, Score.score)
        .join(Decision, (Decision.message_id == Score.message_id) & (Decision.mode == "live"))
        .where(
            Score.message_id.in_(list(first)),
            Score.model_id == Decision.model_id,
            Score.rule_set_hash == Decision.rule_set_hash,
        )
    )
    for message_id, label, value in session.execute(query):
        scores[message_id][label] = float(value)
    return [Reviewed(mid, tuple(first[mid]), tuple(last[mid]), scores[mid]) for mid in first]


def threshold_pairs(reviewed: list[Reviewed]) -> dict[str, list[tuple[float, bool]]]:
    """(score, kept) per proposed label: the data a label's precision is measured on."""
    pairs: dict[str, list[tuple[float, bool]]] = {}
    for mail in reviewed:
        for label in mail.proposed:
            if label in mail.scores:
                pairs.setdefault(label, []).append((mail.scores[label], label in mail.final))
    return pairs


def learned_thresholds(
    session: Session, rule_set: RuleSet, *, min_examples: int
) -> dict[str, LearnedThreshold]:
    reviewed = reviewed_mails(session, rule_set_name=rule_set.name)
    return learn_thresholds(threshold_pairs(reviewed), rule_set, min_examples=min_examples)


def learned_thresholds_for(
    session: Session, rule_set: RuleSet, settings: Settings
) -> dict[str, LearnedThreshold]:
    """Live routing's learned thresholds: none unless the rule set sets ``policy.target_precision``."""
    if rule_set.policy.target_precision is None:
        return {}
    return learned_thresholds(session, rule_set, min_examples=settings.threshold_min_examples)


def review_version(session: Session) -> tuple[int, int]:
    """Changes whenever a correction is added or removed: (max id, count)."""
    top, count = session.execute(select(func.max(Correction.id), func.count(Correction.id))).one()
    return int(top or 0), int(count or 0)


def scoring_texts(
    session: Session, ids: list[int], *, max_chars: int, boilerplate_min: int = DEFAULT_MIN_SHARED
) -> dict[int, str]:
    """The text each message was scored on (re-parsed from its raw bytes, as classify does; a
    boilerplate subject left out, :mod:`worker.store.boilerplate`)."""
    query = select(Message.id, Message.raw, Message.profile).where(Message.id.in_(ids))
    rows = [
        (mid, parse_message(raw, max_chars=max_chars), profile)
        for mid, raw, profile in session.execute(query)
    ]
    keep = keep_subjects(
        session,
        [mid for mid, _, _ in rows],
        [parsed.subject for _, parsed, _ in rows],
        [profile for _, _, profile in rows],
        min_shared=boilerplate_min,
    )
    return {mid: parsed.scored_text(keep_subject=k) for (mid, parsed, _), k in zip(rows, keep, strict=True)}
