"""The webhook document, schema ``mailroute.webhook/v1``: what a receiver gets about one routed mail.

Built from the stored rows only (message facts, the live decision, the scores behind it), never from
the mail's text, and encoded canonically so the same document always yields the same signed bytes.
Fields may be added within v1; removing or changing one makes v2 (docs/webhooks.md).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors.webhook.facts import correction_facts, decision_facts, decision_scores, message_facts
from worker.db.models import Action, ActionStatus, Decision, Message, Score

SCHEMA = "mailroute.webhook/v1"
EVENT = "message.routed"
CORRECTED = "decision.corrected"  # to an endpoint that got the original, after a reviewer's correction
ADMIN_MESSAGE_PATH = "/messages/{id}"  # the admin's message page


def build_payload(session: Session, action: Action, message: Message, *, admin_url: str) -> dict[str, Any]:
    """The ``mailroute.webhook/v1`` document (docs/webhooks.md): facts, decision, scores, admin link."""
    decision = session.scalar(
        select(Decision).where(Decision.message_id == message.id, Decision.mode == "live")
    )
    scores = decision_scores(session, decision) if decision else {}
    return document(session, action, message, decision, scores, admin_url=admin_url)


def build_payloads(
    session: Session, items: Sequence[tuple[Action, Message]], *, admin_url: str
) -> dict[int, dict[str, Any]]:
    """:func:`build_payload` for a batch (action id → document): decisions and scores in two queries."""
    ids = sorted({message.id for _, message in items})
    live = select(Decision).where(Decision.message_id.in_(ids), Decision.mode == "live")
    decisions = {decision.message_id: decision for decision in session.scalars(live)}
    rows = session.execute(
        select(Score.message_id, Score.model_id, Score.rule_set_hash, Score.label, Score.score)
        .where(Score.message_id.in_(ids))
        .order_by(Score.label)
    )
    scores: dict[int, dict[str, float]] = {}
    for message_id, model_id, rule_set_hash, label, score in rows:
        decision = decisions.get(message_id)
        if decision is not None and (model_id, rule_set_hash) == (decision.model_id, decision.rule_set_hash):
            scores.setdefault(message_id, {})[label] = round(score, 6)
    return {
        action.id: document(
            session,
            action,
            message,
            decisions.get(message.id),
            scores.get(message.id, {}),
            admin_url=admin_url,
        )
        for action, message in items
    }


def document(
    session: Session,
    action: Action,
    message: Message,
    decision: Decision | None,
    scores: dict[str, float],
    *,
    admin_url: str,
) -> dict[str, Any]:
    """The document from its loaded rows (the correction facts are read only for a corrected mail)."""
    corrected = decision is not None and decision.review_state == "corrected" and delivered_before(action)
    extra = correction_facts(session, action, message) if corrected else {}
    return extra | {
        "schema": SCHEMA,
        "event": CORRECTED if corrected else EVENT,
        "delivery_id": action.key,
        "endpoint": action.target,
        "category": action.category,
        "params": dict(action.params or {}),
        "message": message_facts(message),
        "decision": decision_facts(decision) if decision else None,
        "scores": scores if decision else {},
        "links": {"admin": admin_url.rstrip("/") + ADMIN_MESSAGE_PATH.format(id=message.id)},
    }


def delivered_before(action: Action) -> bool:
    """Whether this endpoint got a document about this mail already (an earlier successful try)."""
    return any(attempt.outcome == ActionStatus.DONE for attempt in action.attempts_log)


def encode(payload: dict[str, Any]) -> bytes:
    """Canonical JSON (sorted keys, no spaces): the same document always signs to the same bytes."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
