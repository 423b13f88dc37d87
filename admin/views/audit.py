"""The audit log (admins only): who approved, corrected, published, changed a user or logged in.

A page with filters (actor, action, subject) and a CSV export of the same rows; ``/api/audit`` gives
them as JSON. Cells of the CSV are defused like the decisions export.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from admin import csrf
from admin.deps import db, require_api, require_page
from admin.views.browse import csv_cell
from admin.views.review import render
from worker.db.models import AuditEvent, Role

router = APIRouter(
    include_in_schema=False, dependencies=[Depends(require_page(Role.ADMIN)), Depends(csrf.protect_form)]
)
api_router = APIRouter(prefix="/api", tags=["api"], dependencies=[Depends(require_api(Role.ADMIN))])
LIMIT = 500
CSV_COLUMNS = ("id", "at", "actor", "action", "subject", "before", "after")


def audit_query(params: Any) -> Select:
    """Newest events first, narrowed by the ``actor``, ``action`` and ``subject`` parameters."""
    query = select(AuditEvent)
    for name in ("actor", "action", "subject"):
        value = str(params.get(name, ""))[:255]
        if value:
            query = query.where(getattr(AuditEvent, name) == value)
    return query.order_by(AuditEvent.id.desc())


def as_dict(event: AuditEvent) -> dict[str, Any]:
    return {
        "id": event.id,
        "at": event.at.isoformat() if event.at else None,
        "actor": event.actor,
        "action": event.action,
        "subject": event.subject,
        "before": event.before,
        "after": event.after,
    }


@router.get("/audit", response_class=HTMLResponse)
def audit_page(request: Request, session: Session = Depends(db)) -> Response:
    events = list(session.scalars(audit_query(request.query_params).limit(LIMIT)))
    params = {k: request.query_params.get(k, "") for k in ("actor", "action", "subject")}
    return render(request, "audit.html", {"events": events, "params": params, "limit": LIMIT})


@router.get("/audit.csv")
def audit_csv(request: Request, session: Session = Depends(db)) -> Response:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for event in session.scalars(audit_query(request.query_params)):
        row = as_dict(event)
        row["before"], row["after"] = json.dumps(event.before), json.dumps(event.after)
        writer.writerow([csv_cell(row[c]) for c in CSV_COLUMNS])
    headers = {"Content-Disposition": 'attachment; filename="mailroute-audit.csv"'}
    return Response(out.getvalue(), media_type="text/csv; charset=utf-8", headers=headers)


@api_router.get("/audit")
def audit_api(request: Request, session: Session = Depends(db)) -> list[dict[str, Any]]:
    """The newest audit events (at most 500), filtered by ``actor``, ``action``, ``subject``."""
    return [as_dict(e) for e in session.scalars(audit_query(request.query_params).limit(LIMIT))]
