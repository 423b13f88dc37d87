"""The rule-set editor: each profile's live YAML, a preview (validation, diff, backtest), publish,
history and rollback.

Anyone logged in may look and preview; publishing and rolling back go through
:func:`admin.deps.require_publisher` (today every login is an admin; a role check slots in there).
Publishing names the version the preview was made against, and is refused when another version went
live since — so nobody publishes over a change they never saw.
"""

from __future__ import annotations

from contextlib import suppress
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from admin import csrf
from admin.deps import db, require_page, require_publisher
from admin.ruleedit import PREVIEW_MAILS, live_text, normalize, preview
from admin.views.review import render
from worker.core.errors import InputError, RuleSetError
from worker.db.models import DEFAULT_PROFILE, Role
from worker.pipeline.profiles import check_profiles
from worker.store import rulesets

router = APIRouter(
    include_in_schema=False, dependencies=[Depends(require_page(Role.VIEWER)), Depends(csrf.protect_form)]
)
ADMIN = [Depends(require_page(Role.ADMIN))]  # publishing and previewing a rule set: admins only


def bootstrap(request: Request, profile: str) -> None:
    """Make sure a profile with a bootstrap file (the default one) has its version 1."""
    with suppress(RuleSetError):  # no version and no file: the editor starts empty
        request.app.state.profiles.source(profile)()


@router.get("/rules", response_class=HTMLResponse)
def rule_sets(request: Request, session: Session = Depends(db)) -> Response:
    bootstrap(request, DEFAULT_PROFILE)
    health = check_profiles(session)
    rows = [(h, rulesets.get_version(session, h.profile, h.head)) for h in health]
    return render(request, "rules.html", {"rows": rows})


@router.get("/rules/{profile}", response_class=HTMLResponse)
def editor(request: Request, profile: str, session: Session = Depends(db)) -> Response:
    bootstrap(request, profile)
    version, text = live_text(session, profile)
    return render(request, "rule_edit.html", editor_context(session, profile, version, text))


def editor_context(
    session: Session, profile: str, version: int | None, text: str, error: str | None = None
) -> dict[str, object]:
    health = {h.profile: h for h in check_profiles(session)}.get(profile)
    return {
        "profile": profile,
        "version": version,
        "text": text,
        "error": error,
        "load_error": health.error if health is not None else None,
        "history": rulesets.history(session, profile),
        "limit": PREVIEW_MAILS,
    }


@router.post("/rules/{profile}/preview", response_class=HTMLResponse, dependencies=ADMIN)
def preview_page(
    request: Request,
    profile: str,
    yaml_text: str = Form(..., alias="yaml", max_length=200_000),
    limit: int = Form(PREVIEW_MAILS, ge=1, le=5000),
    session: Session = Depends(db),
) -> Response:
    scorer = request.app.state.runtime().scorer
    settings = request.app.state.settings
    result = preview(
        session, scorer, profile, yaml_text, limit=limit, boilerplate_min=settings.subject_boilerplate_min
    )
    if result.error is not None:
        context = editor_context(session, profile, result.base_version, result.text, result.error)
        return render(request, "rule_edit.html", context, status=422)
    return render(request, "rule_preview.html", {"p": result, "limit": limit})


@router.post("/rules/{profile}/publish", dependencies=ADMIN)
def publish(
    request: Request,
    profile: str,
    yaml_text: str = Form(..., alias="yaml", max_length=200_000),
    base_version: int = Form(0),
    message: str = Form("", max_length=4000),
    session: Session = Depends(db),
) -> Response:
    user = require_publisher(request)
    text = normalize(yaml_text)
    if (rulesets.head(session, profile) or 0) != base_version:
        raise HTTPException(
            status_code=409, detail="another version went live since this preview; preview again"
        )
    try:
        row = rulesets.publish(session, profile, text, author=user, message=message.strip())
    except (RuleSetError, InputError) as e:
        session.rollback()
        context = editor_context(session, profile, base_version or None, text, str(e))
        return render(request, "rule_edit.html", context, status=422)
    session.commit()
    return RedirectResponse(f"/rules/{quote(profile, safe='')}?published={row.version}", status_code=303)


@router.post("/rules/{profile}/rollback", dependencies=ADMIN)
def rollback(
    request: Request, profile: str, version: int = Form(..., ge=1), session: Session = Depends(db)
) -> Response:
    user = require_publisher(request)
    try:
        row = rulesets.rollback(session, profile, version, author=user)
    except InputError as e:
        session.rollback()
        raise HTTPException(status_code=404, detail=str(e)) from e
    session.commit()
    return RedirectResponse(f"/rules/{quote(profile, safe='')}?published={row.version}", status_code=303)
