"""Classify a batch of stored messages: parse → :func:`~worker.pipeline.route.route` → save scores,
decision and outbox.

Plain functions over a session; the Celery task is a thin wrapper. A message already decided is
skipped (never scored twice); rows are locked with SKIP LOCKED on Postgres so two workers given the
same ids never both decide them; the unique decision constraint is the last guard.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from rules import RuleSet
from worker.db.models import Message, MessageStatus
from worker.learning.thresholds import LearnedThreshold
from worker.parsing.message import parse_message
from worker.pipeline.outcomes import Outcome, write_outcomes
from worker.pipeline.route import route
from worker.scoring.base import Scorer

log = logging.getLogger(__name__)


@dataclass
class BatchResult:
    decided: list[int] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)
    failed: dict[int, str] = field(default_factory=dict)
    action_kinds: dict[int, str] = field(default_factory=dict)  # new outbox rows: id -> kind
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def action_ids(self) -> list[int]:
        return list(self.action_kinds)


def load_pending(session: Session, ids: Sequence[int]) -> list[Message]:
    """The messages among ``ids`` that still need a decision, locked for this transaction."""
    query = (
        select(Message)
        .where(Message.id.in_(list(ids)), Message.status != MessageStatus.DECIDED)
        .order_by(Message.id)
        .with_for_update(skip_locked=True)
    )
    return list(session.scalars(query))


def load_pending_rows(session: Session, ids: Sequence[int]) -> list[tuple[int, bytes, list[str]]]:
    """(id, raw, warnings) of the messages among ``ids`` that still need a decision, locked."""
    query = (
        select(Message.id, Message.raw, Message.parse_warnings)
        .where(Message.id.in_(list(ids)), Message.status != MessageStatus.DECIDED)
        .order_by(Message.id)
        .with_for_update(skip_locked=True)
    )
    return [(id_, raw, list(warnings or [])) for id_, raw, warnings in session.execute(query)]


def classify_batch(
    session: Session,
    ids: Sequence[int],
    scorer: Scorer,
    rule_set: RuleSet,
    *,
    max_chars: int = 4000,
    learned: Mapping[str, LearnedThreshold] | None = None,
) -> BatchResult:
    """Decide every pending message among ``ids``; the caller commits (or rolls back on error)."""
    result = BatchResult()
    started = time.perf_counter()
    rows = load_pending_rows(session, ids)
    result.skipped = sorted(set(ids) - {row[0] for row in rows})
    parsed = [parse_message(raw, max_chars=max_chars) for _, raw, _ in rows]
    result.timings["parse_s"] = time.perf_counter() - started
    if not rows:
        return result
    t_score = time.perf_counter()
    # A scoring error propagates: the caller rolls back and calls record_batch_failure.
    routed = route(parsed, scorer, rule_set, learned=learned)
    result.timings["score_s"] = time.perf_counter() - t_score
    t_save = time.perf_counter()
    outcomes = []
    for (message_id, _, warnings), mail, outcome in zip(rows, parsed, routed, strict=True):
        if outcome.decision is None:
            message = session.get(Message, message_id)
            if message is not None:
                mark_failed(message, outcome.error or "decision failed")
            result.failed[message_id] = outcome.error or "decision failed"
            continue
        outcomes.append(Outcome(message_id, mail, warnings, outcome.scores, outcome.decision))
    result.action_kinds = write_outcomes(
        session,
        outcomes,
        rule_set,
        scorer.model_id,
        max_chars=max_chars,
        learned_version=getattr(scorer, "last_version", None),  # a LearnedScorer says which model decided
    )
    result.decided = [o.message_id for o in outcomes]
    result.timings["save_s"] = time.perf_counter() - t_save
    return result


def mark_failed(message: Message, error: str) -> None:
    """Keep the error on the row; the message stays retryable."""
    message.status = MessageStatus.FAILED
    message.error = error[:4000]
    message.attempts = (message.attempts or 0) + 1
    log.warning("message %s failed: %s", message.id, error, extra={"message_id": message.id})


def record_batch_failure(session: Session, ids: Sequence[int], error: BaseException) -> list[int]:
    """After a failed batch (rolled back), keep the error on every undecided message of it."""
    text = f"{type(error).__name__}: {error}"
    failed = []
    for message in load_pending(session, ids):
        mark_failed(message, text)
        failed.append(message.id)
    return failed
