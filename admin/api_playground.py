"""The JSON API's playground: score a mail against label texts, or against the live rule set and decide."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request

from admin import playground
from admin.deps import require_api
from admin.schemas import DecideRequest
from worker.db.models import Role

router = APIRouter(prefix="/api", tags=["api"], dependencies=[Depends(require_api(Role.VIEWER))])
REVIEWER = [Depends(require_api(Role.REVIEWER))]


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
