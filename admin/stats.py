"""Dashboard numbers: volume, review rate, label distribution and throughput per day."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from worker.db.models import Action, Decision, Message, MessageStatus


def _count(session: Session, *where: ColumnElement[bool]) -> int:
    return int(session.scalar(select(func.count(Decision.id)).where(Decision.mode == "live", *where)) or 0)


def _per_day(session: Session, column: Any, since: datetime, *where: ColumnElement[bool]) -> dict[str, int]:
    day = func.date(column)
    query = select(day, func.count()).where(column >= since, *where).group_by(day)
    return {str(d)[:10]: int(n) for d, n in session.execute(query) if d is not None}


def collect(session: Session, *, days: int = 14) -> dict[str, Any]:
    """Everything the dashboard and ``GET /api/stats`` show, as plain JSON-able data."""
    days = max(1, min(days, 365))
    since = datetime.combine(date.today() - timedelta(days=days - 1), datetime.min.time(), UTC)
    received = int(session.scalar(select(func.count(Message.id))) or 0)
    failed = int(
        session.scalar(select(func.count(Message.id)).where(Message.status == MessageStatus.FAILED)) or 0
    )
    decided = _count(session)
    sent = _count(session, Decision.needs_review.is_(True))
    states = {
        state: _count(session, Decision.review_state == state)
        for state in ("pending", "approved", "corrected")
    }
    reviewed = states["approved"] + states["corrected"]
    labels: Counter[str] = Counter()
    window = select(Decision.labels).where(Decision.mode == "live", Decision.created_at >= since)
    for row_labels in session.scalars(window):
        labels.update(row_labels or ["(none)"])
    series_days = [(since.date() + timedelta(days=i)).isoformat() for i in range(days)]
    live = Decision.mode == "live"
    raw_series = {
        "received": _per_day(session, Message.received_at, since),
        "decided": _per_day(session, Decision.created_at, since, live),
        "sent_to_review": _per_day(
            session, Decision.created_at, since, live, Decision.needs_review.is_(True)
        ),
        "reviewed": _per_day(session, Decision.reviewed_at, since, live),
    }
    actions = {
        f"{kind}:{status}": int(n)
        for kind, status, n in session.execute(
            select(Action.kind, Action.status, func.count()).group_by(Action.kind, Action.status)
        )
    }
    return {
        "window_days": days,
        "totals": {
            "received": received,
            "decided": decided,
            "failed": failed,
            "sent_to_review": sent,
            "review_pending": states["pending"],
            "approved": states["approved"],
            "corrected": states["corrected"],
        },
        "review_rate": round(sent / decided, 4) if decided else 0.0,
        "correction_rate": round(states["corrected"] / reviewed, 4) if reviewed else 0.0,
        "labels": dict(labels.most_common()),
        "days": series_days,
        "series": {name: [values.get(d, 0) for d in series_days] for name, values in raw_series.items()},
        "actions": actions,
    }
