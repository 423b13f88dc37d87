"""Classify a batch of stored messages: parse → score → decide → save scores, decision and outbox.

Plain functions over a session; the Celery task is a thin wrapper. A message already decided is
skipped (never scored twice); rows are locked with SKIP LOCKED on Postgres so two workers given the
same ids never both decide them; the unique decision constraint is the last guard.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from rules import Decision as RuleDecision
from rules import MessageFacts, RuleSet, decide
from worker.db.models import Action, Decision, Message, MessageStatus, Score
from worker.errors import MailrouteError
from worker.parsing import ParsedMail, parse_message
from worker.scoring.base import Scorer
from worker.telemetry import observe_scoring

log = logging.getLogger(__name__)


@dataclass
class BatchResult:
    decided: list[int] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)
    failed: dict[int, str] = field(default_factory=dict)
    action_ids: list[int] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)


def facts_of(parsed: ParsedMail) -> MessageFacts:
    return MessageFacts(
        sender=parsed.sender, recipients=parsed.recipients, subject=parsed.subject, list_id=parsed.list_id
    )


def load_pending(session: Session, ids: Sequence[int]) -> list[Message]:
    """The messages among ``ids`` that still need a decision, locked for this transaction."""
    query = (
        select(Message)
        .where(Message.id.in_(list(ids)), Message.status != MessageStatus.DECIDED)
        .order_by(Message.id)
        .with_for_update(skip_locked=True)
    )
    return list(session.scalars(query))


def record_parse(message: Message, parsed: ParsedMail, max_chars: int) -> None:
    message.subject = parsed.subject[:2000]
    message.sender = parsed.sender[:2000]
    message.recipients = list(parsed.recipients)[:200]
    message.sent_at = parsed.date
    message.list_id = parsed.list_id
    message.headers = {k: v[:2000] for k, v in list(parsed.headers.items())[:100]}
    message.body_text = parsed.body_text[: max_chars * 10]
    message.clean_text = parsed.text
    message.parse_warnings = sorted(set(message.parse_warnings or []) | set(parsed.warnings))[:50]


def save_decision(
    session: Session, message: Message, scores: dict[str, float], decision: RuleDecision, rule_set: RuleSet,
    model_id: str,
) -> list[Action]:
    """Write scores, the decision and its outbox rows for one message."""
    ranked = sorted(scores.values(), reverse=True) + [0.0, 0.0]
    session.add_all(
        Score(
            message_id=message.id, label=label, score=float(value), model_id=model_id,
            rule_set_hash=rule_set.digest, template_hash=rule_set.template_digest,
        )
        for label, value in scores.items()
    )
    session.add(
        Decision(
            message_id=message.id, mode="live", rule_set_name=rule_set.name, rule_set_hash=rule_set.digest,
            model_id=model_id, labels=list(decision.labels), needs_review=decision.needs_review,
            review_state="pending" if decision.needs_review else "none", reasons=list(decision.reasons),
            top_score=ranked[0], margin=ranked[0] - ranked[1],
        )
    )
    actions = [
        Action(message_id=message.id, kind=spec.kind, target=spec.target, params=dict(spec.params),
               category=category_of(spec, decision, rule_set))
        for spec in decision.actions
    ]
    session.add_all(actions)
    message.status = MessageStatus.DECIDED
    message.error = None
    message.decided_at = datetime.now(UTC)
    return actions


def category_of(spec: object, decision: RuleDecision, rule_set: RuleSet) -> str | None:
    """The decided category whose action list holds ``spec`` (first match)."""
    for category in rule_set.categories:
        if category.name in decision.labels and spec in category.actions:
            return category.name
    return None


def classify_batch(
    session: Session, ids: Sequence[int], scorer: Scorer, rule_set: RuleSet, *, max_chars: int = 4000
) -> BatchResult:
    """Decide every pending message among ``ids``; flushes, the caller commits."""
    result = BatchResult()
    started = time.perf_counter()
    messages = load_pending(session, ids)
    result.skipped = sorted(set(ids) - {m.id for m in messages})
    parsed = [parse_message(m.raw, max_chars=max_chars) for m in messages]
    for message, mail in zip(messages, parsed, strict=True):
        record_parse(message, mail, max_chars)
    result.timings["parse_s"] = time.perf_counter() - started
    if not messages:
        return result
    names = rule_set.category_names()
    t_score = time.perf_counter()
    # A scoring error propagates: the caller rolls back and calls record_batch_failure.
    matrix = scorer.score([p.scoring_text for p in parsed], rule_set.label_texts(), instruction=rule_set.instruction)
    result.timings["score_s"] = time.perf_counter() - t_score
    observe_scoring(result.timings["score_s"], mails=len(messages))
    t_save = time.perf_counter()
    for row, message, mail in zip(matrix, messages, parsed, strict=True):
        scores = {name: float(value) for name, value in zip(names, row, strict=True)}
        try:
            decision = decide(scores, facts_of(mail), rule_set)
            with session.begin_nested():
                actions = save_decision(session, message, scores, decision, rule_set, scorer.model_id)
        except (MailrouteError, ValueError) as e:
            mark_failed(message, f"decision failed: {e}")
            result.failed[message.id] = str(e)
            continue
        result.decided.append(message.id)
        result.action_ids.extend(a.id for a in actions)
    session.flush()
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
