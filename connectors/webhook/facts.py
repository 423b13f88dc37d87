"""The facts a webhook document carries, each read from stored rows: the message, its live decision,
the scores behind it, and a reviewer's correction."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from worker.db.models import Action, Correction, Decision, Message, Score


def _iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()


def correction_facts(session: Session, action: Action, message: Message) -> dict[str, Any]:
    """``correction`` (who, when, labels before and after) and ``wanted`` (does this endpoint still apply)."""
    last = session.scalars(
        select(Correction).where(Correction.message_id == message.id).order_by(Correction.id.desc())
    ).first()
    facts = None
    if last is not None:
        facts = {
            "by": last.reviewer,
            "at": _iso(last.created_at),
            "old_labels": list(last.old_labels),
            "new_labels": list(last.new_labels),
        }
    return {"correction": facts, "wanted": action.desired == "present"}


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
