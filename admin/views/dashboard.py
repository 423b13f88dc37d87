"""The dashboard: statistics and review queues of the last days, and their charts as PNG."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from admin import charts, csrf, stats
from admin.deps import db, page_principal, require_page
from admin.views.review import render
from worker.db.models import Role
from worker.review.queue import review_queues

router = APIRouter(
    include_in_schema=False, dependencies=[Depends(require_page(Role.VIEWER)), Depends(csrf.protect_form)]
)


def _days(request: Request) -> int:
    raw = request.query_params.get("days", "14")
    return int(raw) if raw.isdigit() and 0 < int(raw) <= 365 else 14


@router.get("/dashboard", response_class=HTMLResponse)
def dashboard(request: Request, session: Session = Depends(db)) -> Response:
    days, settings, user = _days(request), request.app.state.settings, page_principal(request)
    queues = review_queues(
        session, max_size=settings.review_alert_queue, max_wait_s=settings.review_alert_wait_s
    )
    context = {
        "stats": stats.collect(session, days=days),
        "days": days,
        "queues": [q for q in queues if user.all_profiles or q.profile in user.profiles],
    }
    return render(request, "dashboard.html", context)


@router.get("/dashboard/{name}.png")
def chart(request: Request, name: str, session: Session = Depends(db)) -> Response:
    draw = charts.CHARTS.get(name)
    if draw is None:
        raise HTTPException(status_code=404, detail=f"no chart {name!r}")
    return Response(draw(stats.collect(session, days=_days(request))), media_type="image/png")
