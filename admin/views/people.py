"""The users page (admins only): add users, set who may do what, disable, reset passwords, tokens.

A new token is shown once, on the page that issued it; afterwards only its first characters, when it
was last used and whether it is revoked. Every change goes through ``admin.users`` (and so is audited).
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from admin import csrf, users
from admin.deps import db, page_principal, require_page
from admin.views.review import render
from worker.db.models import Role, User

router = APIRouter(
    include_in_schema=False, dependencies=[Depends(require_page(Role.ADMIN)), Depends(csrf.protect_form)]
)


def _page(
    request: Request, session: Session, *, new_token: str | None = None, error: str | None = None
) -> Response:
    rows = [
        (u, users.tokens_of(session, u.id)) for u in session.scalars(select(User).order_by(User.username))
    ]
    context = {"rows": rows, "roles": Role.ORDER, "new_token": new_token, "error": error}
    return render(request, "users.html", context, status=400 if error else 200)


def _change(request: Request, session: Session, change: Callable[[], object]) -> Response:
    """Run a user change: committed and back to the list, or rolled back and the page with its error."""
    try:
        change()
    except users.UserError as e:
        session.rollback()
        return _page(request, session, error=str(e))
    session.commit()
    return RedirectResponse("/users", status_code=303)


def _name(session: Session, user_id: int) -> str:
    user = session.get(User, user_id)
    if user is None:
        raise HTTPException(status_code=404, detail=f"no user {user_id}")
    return user.username


@router.get("/users", response_class=HTMLResponse)
def users_page(request: Request, session: Session = Depends(db)) -> Response:
    return _page(request, session)


@router.post("/users", response_class=HTMLResponse)
def add_user(
    request: Request,
    username: str = Form(...),
    password: str = Form(...),
    role: str = Form(Role.REVIEWER),
    profiles: str = Form("*"),
    session: Session = Depends(db),
) -> Response:
    actor = page_principal(request).name
    return _change(
        request,
        session,
        lambda: users.add_user(
            session, username, password, role=role, profiles=profiles.split(","), actor=actor
        ),
    )


@router.post("/users/{user_id}/role", response_class=HTMLResponse)
def set_role(
    request: Request,
    user_id: int,
    role: str = Form(...),
    profiles: str = Form("*"),
    session: Session = Depends(db),
) -> Response:
    name, actor = _name(session, user_id), page_principal(request).name
    return _change(
        request, session, lambda: users.set_role(session, name, role, profiles.split(","), actor=actor)
    )


@router.post("/users/{user_id}/disable")
def toggle_disabled(request: Request, user_id: int, session: Session = Depends(db)) -> Response:
    user = session.get(User, user_id)
    if user is None:
        raise HTTPException(status_code=404, detail=f"no user {user_id}")
    users.set_disabled(session, user.username, disabled=not user.disabled, actor=page_principal(request).name)
    session.commit()
    return RedirectResponse("/users", status_code=303)


@router.post("/users/{user_id}/password", response_class=HTMLResponse)
def reset_password(
    request: Request, user_id: int, password: str = Form(...), session: Session = Depends(db)
) -> Response:
    name, actor = _name(session, user_id), page_principal(request).name
    return _change(request, session, lambda: users.reset_password(session, name, password, actor=actor))


@router.post("/users/{user_id}/tokens", response_class=HTMLResponse)
def issue_token(
    request: Request, user_id: int, name: str = Form(""), session: Session = Depends(db)
) -> Response:
    actor = page_principal(request).name
    token = users.issue_token(session, _name(session, user_id), name=name, actor=actor)
    session.commit()
    return _page(request, session, new_token=token)


@router.post("/users/{user_id}/tokens/{token_id}/revoke")
def revoke_token(request: Request, user_id: int, token_id: int, session: Session = Depends(db)) -> Response:
    rows = users.tokens_of(session, user_id)
    if token_id not in {t.id for t in rows}:
        raise HTTPException(status_code=404, detail=f"no token {token_id} of user {user_id}")
    users.revoke_token(session, token_id, actor=page_principal(request).name)
    session.commit()
    return RedirectResponse("/users", status_code=303)
