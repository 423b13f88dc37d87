"""Human review of a decision: approve it, or correct its labels — and bring the outbox in line.

Plain functions over a session (the caller commits, then queues the returned action ids with
``worker.tasks.enqueue_actions``). Every review is kept as a :class:`Correction` row (who, when, old
and new labels) — approvals too, with equal old and new labels — so what reviewers confirm or fix can
feed thresholds and examples later; it is also written to the audit log (``worker.db.audit``) and the
decision remembers who reviewed it (``reviewed_by``).

Actions follow the labels (:mod:`worker.review.actions`: made ``present`` for the chosen labels,
``absent`` — undone or cancelled — for the others; the webhooks that stay hear of a correction).
:func:`requeue_action` runs one action again from the admin.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from rules import RuleSet
from worker.core.errors import InputError
from worker.core.settings import get_settings
from worker.db import audit
from worker.db.models import Action, ActionStatus, Correction, Decision
from worker.pipeline.rulesource import rule_set_source
from worker.review.actions import sync_actions, tell_webhooks

REVIEWED_STATES = ("approved", "corrected")


class ReviewError(InputError):
    """A review cannot be applied: no such message or decision, or an unknown label."""


def live_decision(session: Session, message_id: int) -> Decision:
    """The live decision of a message, locked for this transaction."""
    decision = session.scalars(
        select(Decision).where(Decision.message_id == message_id, Decision.mode == "live").with_for_update()
    ).first()
    if decision is None:
        raise ReviewError(f"message {message_id} has no decision to review")
    return decision


def approve(
    session: Session, message_id: int, reviewer: str, *, rule_set: RuleSet | None = None
) -> list[int]:
    """Confirm the decision's labels; returns the ids of the actions to queue."""
    decision = live_decision(session, message_id)
    return _review(session, decision, list(decision.labels), reviewer, "approved", None, rule_set)


def correct(
    session: Session,
    message_id: int,
    labels: Sequence[str],
    reviewer: str,
    note: str | None = None,
    *,
    rule_set: RuleSet | None = None,
) -> list[int]:
    """Replace the decision's labels by ``labels`` (several allowed, none allowed); returns action ids."""
    decision = live_decision(session, message_id)
    rules = rule_set or current_rule_set()
    known = set(rules.category_names())
    unknown = [label for label in labels if label not in known]
    if unknown:
        raise ReviewError(f"unknown label(s): {', '.join(unknown)}")
    chosen = list(dict.fromkeys(labels))  # keep order, drop repeats
    state = "approved" if chosen == list(decision.labels) else "corrected"
    return _review(session, decision, chosen, reviewer, state, note, rules)


def current_rule_set() -> RuleSet:
    """The live rule set, from the process's one source (the last good one if the file broke)."""
    return rule_set_source(get_settings().rules_path)()


def _review(
    session: Session,
    decision: Decision,
    labels: list[str],
    reviewer: str,
    state: str,
    note: str | None,
    rule_set: RuleSet | None,
) -> list[int]:
    if not reviewer.strip():
        raise ReviewError("a review needs the reviewer's name")
    rules = rule_set or current_rule_set()
    now = datetime.now(UTC)
    session.add(
        Correction(
            message_id=decision.message_id,
            reviewer=reviewer[:255],
            old_labels=list(decision.labels),
            new_labels=labels,
            note=(note or None) and note[:4000],
            created_at=now,
        )
    )
    audit.record(
        session,
        actor=reviewer,
        action="review.correct" if state == "corrected" else "review.approve",
        subject=f"message:{decision.message_id}",
        before={"labels": list(decision.labels), "review_state": decision.review_state},
        after={"labels": labels, "review_state": state} | ({"note": note[:4000]} if note else {}),
        at=now,
    )
    decision.labels = labels
    decision.review_state = state
    decision.reviewed_at = now
    decision.reviewed_by = reviewer[:255]
    action_ids = sync_actions(session, decision.message_id, labels, rules)
    if state == "corrected":
        action_ids += tell_webhooks(session, decision.message_id, exclude=action_ids)
    session.flush()
    return action_ids


def requeue_action(session: Session, action_id: int) -> list[int]:
    """Run an action again from the admin (a dead webhook, a failed IMAP store); returns its id."""
    action = session.get(Action, action_id, with_for_update=True)
    if action is None:
        raise ReviewError(f"no action {action_id}")
    action.status = ActionStatus.PENDING
    action.attempts = 0
    action.next_attempt_at = None
    session.flush()
    return [action.id]
