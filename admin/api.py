"""The JSON API's reads over many mails: the review queue, the decisions, statistics; and its OpenAPI.

The routes of one message (:mod:`admin.api_message`) and the playground (:mod:`admin.api_playground`)
are on routers of their own under the same ``/api`` prefix and viewer role.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy.orm import Session

from admin import queries, stats
from admin.deps import api_principal, db, require_api
from admin.schemas import MessageSummary, Page
from admin.scope import Principal
from worker.db.models import Decision, Message, Role

router = APIRouter(prefix="/api", tags=["api"], dependencies=[Depends(require_api(Role.VIEWER))])


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


@router.get("/stats")
def statistics(days: int = Query(14, ge=1, le=365), session: Session = Depends(db)) -> dict[str, Any]:
    """Volume, review rate, label distribution and daily throughput over ``days``."""
    return stats.collect(session, days=days)


@router.get("/openapi.json", include_in_schema=False)
def openapi(request: Request) -> dict[str, Any]:
    """This API's OpenAPI document."""
    return dict(request.app.openapi())
