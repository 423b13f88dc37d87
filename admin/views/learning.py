"""What routing has learned from the reviewers: the rule set's learned classifier (version, examples
per label, cross-validated accuracy, calibration plot) and per-label thresholds with their data."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from admin import csrf
from admin.deps import db, require_page
from admin.views.review import render
from worker.db.models import MailVector, Role
from worker.learning import store
from worker.learning.history import reviewed_mails, threshold_pairs
from worker.learning.thresholds import learn_thresholds

router = APIRouter(
    include_in_schema=False, dependencies=[Depends(require_page(Role.VIEWER)), Depends(csrf.protect_form)]
)
CURVE_ROWS = 8  # precision points shown per label, spread over its curve


@router.get("/learning", response_class=HTMLResponse)
def learning(request: Request, session: Session = Depends(db)) -> Response:
    settings = request.app.state.settings
    rule_set = request.app.state.rule_set()
    reviewed = reviewed_mails(session, rule_set_name=rule_set.name)  # this rule set's reviews only
    minimum = settings.threshold_min_examples
    learned = learn_thresholds(threshold_pairs(reviewed), rule_set, min_examples=minimum)
    examples = {name: sum(name in mail.final for mail in reviewed) for name in rule_set.category_names()}
    rows = []
    for name, result in learned.items():
        step = max(1, len(result.curve) // CURVE_ROWS)
        rows.append({"t": result, "examples": examples[name], "curve": result.curve[::step][:CURVE_ROWS]})
    latest = store.load_latest(session, rule_set.name)
    versions = store.history(session, rule_set.name, limit=10)
    model = latest.model if latest else None
    context = {
        "rule_set_name": rule_set.name,
        "model": model,
        "trained_at": versions[0].created_at.strftime("%Y-%m-%d %H:%M") if versions else "",
        "counts": sorted(model.counts.items()) if model else [],
        "versions": versions,
        "rows": rows,
        "reviewed": len(reviewed),
        "target": rule_set.policy.target_precision,
        "min_examples": minimum,
        "few_shot": settings.few_shot,
        "pooling": (settings.neighbours, settings.neighbour_weight, settings.neighbour_memory),
        "remembered": session.scalar(
            select(func.count()).select_from(MailVector).where(MailVector.rule_set_name == rule_set.name)
        ),
    }
    return render(request, "learning.html", context)
