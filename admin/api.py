"""The JSON API: the review queue, decisions, a message, review, decide (playground) and stats."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from sqlalchemy.orm import Session

from admin import effects, playground, queries, stats
from admin.deps import api_principal, db, require_api, rule_set_of
from admin.schemas import DecideRequest, MessageSummary, Page, ReviewRequest, ReviewResult
from admin.scope import Principal
from admin.views.message import message_context, visible_message, visible_replies
from admin.views.review import enqueue
from worker.db.models import Decision, Message, Role
from worker.review import corrections as review
from worker.review.threads import correct_thread

router = APIRouter(prefix="/api", tags=["api"], dependencies=[Depends(require_api(Role.VIEWER))])
REVIEWER = [Depends(require_api(Role.REVIEWER))]


def filters(
    account: str = "",
    category: str = "",
    since: str = "",
    until: str = "",
    q: str = "",
    state: str = "",
    sort: str = "",
    page: str = "1",
) -> queries.Filters:
    """Filters from query parameters (dates as YYYY-MM-DD; unusable values are ignored, see ``notes``)."""
    params = {
        "account": account,
        "category": category,
        "since": since,
        "until": until,
        "q": q,
        "state": state,
        "sort": sort,
        "page": page,
    }
    return queries.parse_filters(params)


def summary(message: Message, decision: Decision) -> MessageSummary:
    return MessageSummary(
        id=message.id,
        account=message.account,
        folder=message.folder,
        sender=message.sender,
        subject=message.subject,
        received_at=message.received_at,
        labels=list(decision.labels),
        needs_review=decision.needs_review,
        review_state=decision.review_state,
        top_score=decision.top_score,
        margin=decision.margin,
    )


def _page(session: Session, chosen: queries.Filters, user: Principal, *, review_only: bool) -> Page:
    rows, total = queries.page_of(session, chosen, review_only=review_only, user=user)
    return Page(
        total=total,
        page=chosen.page,
        page_size=queries.PAGE_SIZE,
        notes=chosen.notes,
        items=[summary(m, d) for m, d in rows],
    )


@router.get("/review", response_model=Page)
def review_queue(
    chosen: queries.Filters = Depends(filters),
    session: Session = Depends(db),
    user: Principal = Depends(api_principal),
) -> Page:
    """Mails waiting for review; ``sort``: oldest (default), uncertain or newest."""
    return _page(session, chosen, user, review_only=True)


@router.get("/decisions", response_model=Page)
def decisions(
    chosen: queries.Filters = Depends(filters),
    session: Session = Depends(db),
    user: Principal = Depends(api_principal),
) -> Page:
    """All live decisions; ``q`` searches subject and sender."""
    return _page(session, chosen, user, review_only=False)


@router.get("/messages/{message_id}")
def message(request: Request, message_id: int, session: Session = Depends(db)) -> dict[str, Any]:
    """A message: headers, cleaned text, scores with thresholds, decision, actions, reviews."""
    c = message_context(request, session, message_id, api_principal(request))
    m, d = c["message"], c["decision"]
    return {
        "id": m.id,
        "account": m.account,
        "folder": m.folder,
        "subject": m.subject,
        "sender": m.sender,
        "received_at": m.received_at,
        "status": m.status,
        "error": m.error,
        "headers": m.headers,
        "text": m.clean_text,
        "parse_warnings": m.parse_warnings,
        "decision": None if d is None else summary(m, d).model_dump() | {"reasons": d.reasons},
        "scores": [
            {"label": s.label, "score": s.score, "threshold": c["thresholds"].get(s.label)}
            for s in c["scores"]
        ],
        "actions": [
            {
                "id": a.id,
                "kind": a.kind,
                "target": a.target,
                "category": a.category,
                "desired": a.desired,
                "status": a.status,
                "attempts": a.attempts,
                "last_error": a.last_error,
                "effect": effects.describe(a).text,
                "undone": effects.describe(a).undone,
                "deliveries": [
                    {
                        "number": t.number,
                        "outcome": t.outcome,
                        "status_code": t.status_code,
                        "error": t.error,
                        "at": t.created_at,
                    }
                    for t in a.attempts_log
                ],
            }
            for a in c["actions"]
        ],
        "reviewed_by": None if d is None else d.reviewed_by,
        "thread_replies": c["replies"],
        "reviews": [
            {
                "reviewer": r.reviewer,
                "at": r.created_at,
                "old_labels": r.old_labels,
                "new_labels": r.new_labels,
                "note": r.note,
            }
            for r in c["corrections"]
        ],
    }


@router.post("/messages/{message_id}/review", response_model=ReviewResult, dependencies=REVIEWER)
def review_message(
    request: Request,
    message_id: int,
    body: ReviewRequest,
    session: Session = Depends(db),
    principal: Principal = Depends(api_principal),
) -> ReviewResult:
    """Approve the decision, or correct its labels; the actions follow."""
    user = principal.name
    visible_message(session, message_id, principal)
    rule_set = rule_set_of(request, session, message_id)
    try:
        if body.decision == "approve":
            ids = review.approve(session, message_id, user, rule_set=rule_set)
        else:
            replies = visible_replies(session, message_id, principal) if body.reroute_replies else []
            ids = correct_thread(
                session, message_id, body.labels, user, body.note, rule_set=rule_set, replies=replies
            )
    except review.ReviewError as e:
        session.rollback()
        raise HTTPException(status_code=400, detail=str(e)) from e
    decision = review.live_decision(session, message_id)
    result = ReviewResult(
        message_id=message_id,
        review_state=decision.review_state,
        labels=list(decision.labels),
        queued_actions=ids,
    )
    session.commit()
    enqueue(request, ids)
    return result


@router.post("/decide", dependencies=REVIEWER)
def playground_decision(request: Request, body: DecideRequest) -> dict[str, Any]:
    """Score a mail against label texts (or the live rule set, then also decide) — the playground."""
    result = playground.run(
        request.app.state.runtime().scorer,
        request.app.state.rule_set(),
        subject=body.subject,
        text=body.text,
        sender=body.sender,
        labels_text="\n".join(body.labels),
        max_chars=request.app.state.settings.max_chars,
    )
    return {
        "model_id": result.model_id,
        "ranked": [
            {"label": r.name, "text": r.text, "score": r.score, "threshold": r.threshold}
            for r in result.ranked
        ],
        "decision": None
        if result.needs_review is None
        else {"labels": result.labels, "needs_review": result.needs_review, "reasons": result.reasons},
    }


@router.get("/stats")
def statistics(days: int = Query(14, ge=1, le=365), session: Session = Depends(db)) -> dict[str, Any]:
    """Volume, review rate, label distribution and daily throughput over ``days``."""
    return stats.collect(session, days=days)


@router.get("/openapi.json", include_in_schema=False)
def openapi(request: Request) -> dict[str, Any]:
    """This API's OpenAPI document."""
    return dict(request.app.openapi())
