"""The playground page: score a typed-in mail with the live rule set and show the decision (reviewers)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response

from admin import csrf, playground
from admin.deps import require_page
from admin.views.review import render
from worker.db.models import Role

router = APIRouter(
    include_in_schema=False, dependencies=[Depends(require_page(Role.VIEWER)), Depends(csrf.protect_form)]
)
REVIEWER = [Depends(require_page(Role.REVIEWER))]


@router.get("/playground", response_class=HTMLResponse, dependencies=REVIEWER)
def playground_form(request: Request) -> Response:
    rule_set = request.app.state.rule_set()
    context = {
        "result": None,
        "form": {"subject": "", "text": "", "sender": "", "labels": ""},
        "rule_set": rule_set,
    }
    return render(request, "playground.html", context)


@router.post("/playground", response_class=HTMLResponse, dependencies=REVIEWER)
def playground_run(
    request: Request,
    subject: str = Form(""),
    text: str = Form(""),
    sender: str = Form(""),
    labels: str = Form(""),
) -> Response:
    runtime = request.app.state.runtime()
    rule_set = request.app.state.rule_set()
    result = playground.run(
        runtime.scorer,
        rule_set,
        subject=subject,
        text=text,
        sender=sender,
        labels_text=labels,
        max_chars=request.app.state.settings.max_chars,
    )
    form = {"subject": subject, "text": text, "sender": sender, "labels": labels}
    return render(request, "playground.html", {"result": result, "form": form, "rule_set": rule_set})
