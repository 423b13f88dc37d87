"""The review queue and the message page: approve or correct in one click."""

from __future__ import annotations

import importlib
import logging
from collections.abc import Sequence
from typing import Any

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from admin import csrf, queries
from admin.deps import db, page_principal, require_page, rule_set_of
from admin.scope import Principal, can_access
from worker.core.errors import InputError, MailrouteError
from worker.db.models import Action, Message, Role
from worker.review import corrections as review
from worker.review.threads import correct_thread, thread_replies

log = logging.getLogger(__name__)
router = APIRouter(
    include_in_schema=False, dependencies=[Depends(require_page(Role.VIEWER)), Depends(csrf.protect_form)]
)
REVIEWER = [Depends(require_page(Role.REVIEWER))]
NOTICES = {
    "approved": "Decision approved; its actions are queued.",
    "corrected": "Correction saved; the actions follow the new labels.",
    "requeued": "Action queued again.",
    "enqueue_failed": "Saved, but the actions could not be queued now; they stay pending in the outbox.",
}


def render(request: Request, name: str, context: dict[str, Any], status: int = 200) -> HTMLResponse:
    principal = page_principal(request)
    context = {
        "user": principal.name,
        "role": principal.role,
        "notice": NOTICES.get(request.query_params.get("notice", "")),
        **context,
    }
    return request.app.state.templates.TemplateResponse(request, name, context, status_code=status)


def enqueue(request: Request, action_ids: Sequence[int]) -> bool:
    """Queue actions after the commit; a broker hiccup leaves them pending in the outbox."""
    try:
        request.app.state.enqueue(list(action_ids))
    except Exception as e:
        log.warning("could not queue actions %s: %s", list(action_ids), type(e).__name__)
        return False
    return True


@router.get("/")
def home() -> Response:
    return RedirectResponse("/review", status_code=303)


@router.get("/review", response_class=HTMLResponse)
def review_queue(request: Request, session: Session = Depends(db)) -> Response:
    filters = queries.parse_filters(request.query_params)
    rows, total = queries.page_of(session, filters, review_only=True, user=page_principal(request))
    context = {
        "rows": rows,
        "total": total,
        "filters": filters,
        "sorts": queries.SORTS,
        "top": queries.top_scores(session, [d for _, d in rows]),
        "accounts": queries.accounts(session),
        "profiles": queries.profiles(session),
        "categories": categories_for(request, filters.profile),
        "page_size": queries.PAGE_SIZE,
    }
    return render(request, "review.html", context)


def categories_for(request: Request, profile: str) -> list[str]:
    """The category filter's choices: the selected profile's, else the default profile's."""
    if profile and not request.app.state.rule_set_injected:
        try:
            return list(request.app.state.profiles(profile).rule_set.category_names())
        except MailrouteError:
            pass  # an unknown profile: fall back to the default profile's categories
    return list(request.app.state.rule_set().category_names())


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
