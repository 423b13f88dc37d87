"""The decisions browser, with CSV export (cells a spreadsheet shows as text).

The dashboard is :mod:`admin.views.dashboard`, the playground :mod:`admin.views.playground`.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse
from sqlalchemy.orm import Session

from admin import csrf, queries
from admin.deps import db, page_principal, require_page
from admin.views.review import render
from worker.db.models import Decision, Message, Role

router = APIRouter(
    include_in_schema=False, dependencies=[Depends(require_page(Role.VIEWER)), Depends(csrf.protect_form)]
)
CSV_COLUMNS = (
    "message_id",
    "received_at",
    "account",
    "folder",
    "sender",
    "subject",
    "labels",
    "needs_review",
    "review_state",
    "reviewed_at",
    "top_score",
    "margin",
    "model_id",
    "rule_set",
    "reasons",
)


@router.get("/decisions", response_class=HTMLResponse)
def decisions(request: Request, session: Session = Depends(db)) -> Response:
    filters = queries.parse_filters(request.query_params, default_sort="newest")
    rows, total = queries.page_of(session, filters, review_only=False, user=page_principal(request))
    context = {
        "rows": rows,
        "total": total,
        "filters": filters,
        "sorts": queries.SORTS,
        "states": queries.REVIEW_STATES,
        "accounts": queries.accounts(session),
        "categories": request.app.state.rule_set().category_names(),
        "page_size": queries.PAGE_SIZE,
    }
    return render(request, "decisions.html", context)


def csv_cell(value: object) -> str:
    """A cell a spreadsheet shows as text: formulas (=, +, -, @) are defused with a quote."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def csv_row(message: Message, decision: Decision) -> list[str]:
    values = (
        message.id,
        message.received_at.isoformat() if message.received_at else "",
        message.account,
        message.folder,
        message.sender,
        message.subject,
        "; ".join(decision.labels),
        decision.needs_review,
        decision.review_state,
        decision.reviewed_at.isoformat() if decision.reviewed_at else "",
        f"{decision.top_score:.4f}",
        f"{decision.margin:.4f}",
        decision.model_id,
        decision.rule_set_name,
        " | ".join(decision.reasons),
    )
    return [csv_cell(v) for v in values]


@router.get("/decisions.csv")
def decisions_csv(request: Request) -> Response:
    filters = queries.parse_filters(request.query_params, default_sort="newest")
    query = queries.filtered(filters, review_only=False, user=page_principal(request))
    query = query.execution_options(yield_per=500)

    def lines() -> Iterator[str]:
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(CSV_COLUMNS)
        # its own session: a streamed body outlives the request's dependencies
        with request.app.state.session_factory() as session:
            for message, decision in session.execute(query):
                writer.writerow(csv_row(message, decision))
                yield out.getvalue()
                out.seek(0)
                out.truncate()
        if out.getvalue():
            yield out.getvalue()

    headers = {"Content-Disposition": 'attachment; filename="mailroute-decisions.csv"'}
    return StreamingResponse(lines(), media_type="text/csv; charset=utf-8", headers=headers)
