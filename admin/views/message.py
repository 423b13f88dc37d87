"""The message page: a mail with its scores, actions and reviews; approve or correct it, redeliver an action.

Only a message in a profile the user is given is shown (else 404, :func:`visible_message`); the JSON
API (:mod:`admin.api_message`) reads and reviews a message through the same functions.
"""

from __future__ import annotations

import importlib
from typing import Any

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from admin import csrf, queries
from admin.deps import db, page_principal, require_page, rule_set_of
from admin.scope import Principal, can_access
from admin.views.review import enqueue, render
from worker.core.errors import InputError
from worker.db.models import Action, Message, Role
from worker.review import corrections as review
from worker.review.threads import correct_thread, thread_replies

router = APIRouter(
    include_in_schema=False, dependencies=[Depends(require_page(Role.VIEWER)), Depends(csrf.protect_form)]
)
REVIEWER = [Depends(require_page(Role.REVIEWER))]


def visible_message(session: Session, message_id: int, user: Principal) -> Message:
    """The message, or 404 when it does not exist or is in a profile ``user`` is not given."""
    message = session.get(Message, message_id)
    if message is None or not can_access(user, message):
        raise HTTPException(status_code=404, detail=f"no message {message_id}")
    return message


def message_context(request: Request, session: Session, message_id: int, user: Principal) -> dict[str, Any]:
    message = visible_message(session, message_id, user)
    decision = queries.live_decision(session, message_id)
    rule_set = rule_set_of(request, session, message_id)
    thresholds = {c.name: rule_set.policy.threshold_for(c.threshold) for c in rule_set.categories}
    scores = queries.scores_of(session, decision) if decision else []
    choices = rule_set.category_names() + [
        label for label in (decision.labels if decision else []) if label not in thresholds
    ]
    return {
        "message": message,
        "decision": decision,
        "scores": scores,
        "thresholds": thresholds,
        "actions": queries.actions_of(session, message_id),
        "choices": choices,
        "corrections": queries.corrections_of(session, message_id),
        "replies": visible_replies(session, message_id, user),
    }


def visible_replies(session: Session, message_id: int, user: Principal) -> list[int]:
    """The replies that followed this mail's thread, those ``user`` may see."""
    rows = [session.get(Message, r) for r in thread_replies(session, message_id)]
    return [m.id for m in rows if m is not None and can_access(user, m)]


@router.get("/messages/{message_id}", response_class=HTMLResponse)
def message_page(request: Request, message_id: int, session: Session = Depends(db)) -> Response:
    context = message_context(request, session, message_id, page_principal(request))
    return render(request, "message.html", context)


@router.post("/messages/{message_id}/review", dependencies=REVIEWER)
def review_message(
    request: Request,
    message_id: int,
    decision: str = Form(...),
    labels: list[str] = Form(default_factory=list),
    note: str = Form(""),
    reroute_replies: str = Form(""),
    session: Session = Depends(db),
) -> Response:
    user = page_principal(request).name
    visible_message(session, message_id, page_principal(request))
    rule_set = rule_set_of(request, session, message_id)
    replies = visible_replies(session, message_id, page_principal(request)) if reroute_replies else []
    try:
        if decision == "approve":
            ids = review.approve(session, message_id, user, rule_set=rule_set)
        elif decision == "correct":
            ids = correct_thread(
                session, message_id, labels, user, note.strip() or None, rule_set=rule_set, replies=replies
            )
        else:
            raise HTTPException(status_code=400, detail="decision must be approve or correct")
    except review.ReviewError as e:
        session.rollback()
        raise HTTPException(status_code=400, detail=str(e)) from e
    state = queries.live_decision(session, message_id)
    session.commit()
    notice = (state.review_state if state else "approved") if enqueue(request, ids) else "enqueue_failed"
    return RedirectResponse(f"/review?notice={notice}", status_code=303)


@router.post("/messages/{message_id}/actions/{action_id}/redeliver", dependencies=REVIEWER)
def redeliver(request: Request, message_id: int, action_id: int, session: Session = Depends(db)) -> Response:
    visible_message(session, message_id, page_principal(request))
    action = session.get(Action, action_id)
    if action is None or action.message_id != message_id:
        raise HTTPException(status_code=404, detail=f"no action {action_id} on message {message_id}")
    try:
        ids = redeliver_action(session, action)
    except InputError as e:
        session.rollback()
        raise HTTPException(status_code=400, detail=str(e)) from e
    session.commit()
    notice = "requeued" if enqueue(request, ids) else "enqueue_failed"
    return RedirectResponse(f"/messages/{message_id}?notice={notice}", status_code=303)


def redeliver_action(session: Session, action: Action) -> list[int]:
    """The webhook connector's ``redeliver`` for webhooks when installed, else a plain re-queue."""
    if action.kind == "webhook":
        try:
            webhook: Any = importlib.import_module("connectors.webhook.delivery")
        except ModuleNotFoundError:
            webhook = None
        if webhook is not None and hasattr(webhook, "redeliver"):
            result = webhook.redeliver(session, action.id)
            session.flush()
            return [int(x) for x in result] if isinstance(result, list | tuple) else [action.id]
    return review.requeue_action(session, action.id)
