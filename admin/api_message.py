"""The JSON API's message: read one (headers, text, scores, decision, actions, reviews), review it.

The same reads and checks as the message page (:mod:`admin.views.message`): a message outside the
caller's profiles is a 404.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request
from sqlalchemy.orm import Session

from admin import effects
from admin.api import summary
from admin.deps import api_principal, db, require_api, rule_set_of
from admin.schemas import ReviewRequest, ReviewResult
from admin.scope import Principal
from admin.views.message import message_context, visible_message, visible_replies
from admin.views.review import enqueue
from worker.db.models import Role
from worker.review import corrections as review
from worker.review.threads import correct_thread

router = APIRouter(prefix="/api", tags=["api"], dependencies=[Depends(require_api(Role.VIEWER))])
REVIEWER = [Depends(require_api(Role.REVIEWER))]


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
