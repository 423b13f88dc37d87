"""Log in and out."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from admin import csrf, identity
from admin.deps import page_user, safe_next
from worker.db import audit

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf.protect_form)])


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _page(request: Request, *, next_path: str, error: str | None = None, status: int = 200) -> HTMLResponse:
    enabled = request.app.state.auth.enabled or identity.any_user(request.app.state.session_factory)
    context = {"next": next_path, "error": error, "enabled": enabled, "user": None}
    return request.app.state.templates.TemplateResponse(request, "login.html", context, status_code=status)


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str = "/review") -> Response:
    if request.state.admin is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return _page(request, next_path=safe_next(next))


@router.post("/login", response_class=HTMLResponse)
def login(
    request: Request,
    username: str = Form(""),
    password: str = Form(""),
    next: str = Form("/review"),
) -> Response:
    auth, client = request.app.state.auth, _client(request)
    target = safe_next(next)
    if auth.limiter.blocked(client):
        return _page(
            request, next_path=target, error="Too many failed logins. Wait a few minutes.", status=429
        )
    with request.app.state.session_factory.begin() as session:
        user = identity.by_password(session, request.app.state.settings, username, password)
        action = "login" if user is not None else "login.failed"
        audit.record(session, actor=username[:255] or "?", action=action, after={"client": client})
    if user is None:
        auth.limiter.failed(client)
        return _page(request, next_path=target, error="Wrong user name or password.", status=401)
    auth.limiter.succeeded(client)
    response = RedirectResponse(target, status_code=303)
    auth.start(response, username)  # a new session id: whatever cookie came in is not reused
    response.delete_cookie(csrf.PRESESSION_COOKIE, path="/")
    return response


@router.post("/logout", dependencies=[Depends(page_user)])
def logout(request: Request) -> Response:
    response = RedirectResponse("/login", status_code=303)
    request.app.state.auth.end(response)
    return response
