"""The reads behind the review queue, the decisions browser and the message page.

Every filter value (:mod:`admin.filters`) is user input: it is only ever a bound parameter (LIKE
patterns escaped).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, time, timedelta

from sqlalchemy import Select, String, cast, func, or_, select
from sqlalchemy.orm import Session

from admin.filters import REVIEW_STATES as REVIEW_STATES  # re-exported: the pages use queries.*
from admin.filters import SORTS as SORTS
from admin.filters import Filters
from admin.filters import parse_filters as parse_filters
from admin.scope import Principal, visible_messages
from worker.db.models import Action, Correction, Decision, Message, Score

PAGE_SIZE = 50


def escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def filtered(filters: Filters, *, review_only: bool, user: Principal | None = None) -> Select:
    """The (message, decision) rows matching ``filters``, only those ``user`` may see when given."""
    query = select(Message, Decision).join(Decision, Decision.message_id == Message.id)
    query = query.where(Decision.mode == "live")
    if user is not None:
        query = visible_messages(query, user)
    if review_only:
        query = query.where(Decision.review_state == "pending")
    elif filters.state:
        query = query.where(Decision.review_state == filters.state)
    if filters.account:
        query = query.where(Message.account == filters.account)
    if filters.profile:
        query = query.where(Message.profile == filters.profile)
    if filters.category:
        pattern = f"%{escape_like(json.dumps(filters.category))}%"
        query = query.where(cast(Decision.labels, String).like(pattern, escape="\\"))
    if filters.since:
        query = query.where(Message.received_at >= datetime.combine(filters.since, time(), UTC))
    if filters.until:
        end = datetime.combine(filters.until + timedelta(days=1), time(), UTC)
        query = query.where(Message.received_at < end)
    if filters.q:
        pattern = f"%{escape_like(filters.q)}%"
        query = query.where(
            or_(Message.subject.ilike(pattern, escape="\\"), Message.sender.ilike(pattern, escape="\\"))
        )
    order = {
        "oldest": (Message.received_at.asc(), Message.id.asc()),
        "newest": (Message.received_at.desc(), Message.id.desc()),
        # least confident first: the top score is the calibrated probability that the decision is right
        "uncertain": (Decision.top_score.asc(), Decision.margin.asc(), Message.id.asc()),
    }[filters.sort]
    return query.order_by(*order)


def page_of(
    session: Session,
    filters: Filters,
    *,
    review_only: bool,
    size: int = PAGE_SIZE,
    user: Principal | None = None,
) -> tuple[list[tuple[Message, Decision]], int]:
    """One page of (message, decision) rows (those ``user`` may see) and the total count."""
    query = filtered(filters, review_only=review_only, user=user)
    total = int(session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0)
    rows = session.execute(query.limit(size).offset((filters.page - 1) * size))
    return [(m, d) for m, d in rows], total


def accounts(session: Session) -> list[str]:
    return list(session.scalars(select(Message.account).distinct().order_by(Message.account)))


def profiles(session: Session) -> list[str]:
    """The routing profiles mail was stored under."""
    return list(session.scalars(select(Message.profile).distinct().order_by(Message.profile)))


def scores_of(session: Session, decision: Decision) -> list[Score]:
    """The scores behind a decision (same model and rule set), best first."""
    query = select(Score).where(
        Score.message_id == decision.message_id,
        Score.model_id == decision.model_id,
        Score.rule_set_hash == decision.rule_set_hash,
    )
    return sorted(session.scalars(query), key=lambda s: -s.score)


def top_scores(session: Session, decisions: list[Decision], n: int = 3) -> dict[int, list[Score]]:
    """The ``n`` best scores of each decision's message, for list pages (one query)."""
    if not decisions:
        return {}
    wanted = {d.message_id: (d.model_id, d.rule_set_hash) for d in decisions}
    found: dict[int, list[Score]] = {mid: [] for mid in wanted}
    for score in session.scalars(select(Score).where(Score.message_id.in_(list(wanted)))):
        if (score.model_id, score.rule_set_hash) == wanted[score.message_id]:
            found[score.message_id].append(score)
    return {mid: sorted(scores, key=lambda s: -s.score)[:n] for mid, scores in found.items()}


def live_decision(session: Session, message_id: int) -> Decision | None:
    return session.scalars(
        select(Decision).where(Decision.message_id == message_id, Decision.mode == "live")
    ).first()


def actions_of(session: Session, message_id: int) -> list[Action]:
    return list(session.scalars(select(Action).where(Action.message_id == message_id).order_by(Action.id)))


def corrections_of(session: Session, message_id: int) -> list[Correction]:
    query = select(Correction).where(Correction.message_id == message_id).order_by(Correction.id.desc())
    return list(session.scalars(query))
