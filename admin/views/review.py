"""The review queue page, and what every page shares: rendering with the user and a notice, and
queueing a review's actions after the commit."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from admin import csrf, queries
from admin.deps import db, page_principal, require_page
from worker.core.errors import MailrouteError
from worker.db.models import Role

log = logging.getLogger(__name__)
router = APIRouter(
    include_in_schema=False, dependencies=[Depends(require_page(Role.VIEWER)), Depends(csrf.protect_form)]
)
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
