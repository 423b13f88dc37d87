"""The webhook document, schema ``mailroute.webhook/v1``: what a receiver gets about one routed mail.

Built from the stored rows only (message facts, the live decision, the scores behind it), never from
the mail's text, and encoded canonically so the same document always yields the same signed bytes.
Fields may be added within v1; removing or changing one makes v2 (docs/webhooks.md).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from worker.db.models import Action, Decision, Message, Score

SCHEMA = "mailroute.webhook/v1"
EVENT = "message.routed"
ADMIN_MESSAGE_PATH = "/messages/{id}"  # the admin's message page


def _iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()


def build_payload(session: Session, action: Action, message: Message, *, admin_url: str) -> dict[str, Any]:
    """The ``mailroute.webhook/v1`` document (docs/webhooks.md): facts, decision, scores, admin link."""
    decision = session.scalar(
        select(Decision).where(Decision.message_id == message.id, Decision.mode == "live")
    )
    return {
        "schema": SCHEMA,
        "event": EVENT,
        "delivery_id": action.key,
        "endpoint": action.target,
        "category": action.category,
        "params": dict(action.params or {}),
        "message": message_facts(message),
        "decision": decision_facts(decision) if decision else None,
        "scores": decision_scores(session, decision) if decision else {},
        "links": {"admin": admin_url.rstrip("/") + ADMIN_MESSAGE_PATH.format(id=message.id)},
    }


def message_facts(message: Message) -> dict[str, Any]:
    return {
        "id": message.id,
        "message_id": message.message_id,
        "subject": message.subject,
        "sender": message.sender,
        "recipients": list(message.recipients or []),
        "date": _iso(message.sent_at),
        "list_id": message.list_id,
        "account": message.account,
        "folder": message.folder,
        "received_at": _iso(message.received_at),
    }


def decision_facts(decision: Decision) -> dict[str, Any]:
    return {
        "labels": list(decision.labels),
        "needs_review": decision.needs_review,
        "reasons": list(decision.reasons),
        "rule_set": decision.rule_set_name,
        "rule_set_hash": decision.rule_set_hash,
        "model_id": decision.model_id,
        "top_score": round(decision.top_score, 6),
        "margin": round(decision.margin, 6),
        "decided_at": _iso(decision.created_at),
    }


def decision_scores(session: Session, decision: Decision) -> dict[str, float]:
    """The scores behind ``decision`` only: same model and rule-set version."""
    rows = session.scalars(
        select(Score)
        .where(
            Score.message_id == decision.message_id,
            Score.model_id == decision.model_id,
            Score.rule_set_hash == decision.rule_set_hash,
        )
        .order_by(Score.label)
    )
    return {row.label: round(row.score, 6) for row in rows}


def encode(payload: dict[str, Any]) -> bytes:
    """Canonical JSON (sorted keys, no spaces): the same document always signs to the same bytes."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
