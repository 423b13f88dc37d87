"""What wraps every admin request: the login session and CSRF key (a pre-session cookie for anonymous
visitors), the security headers (a strict Content-Security-Policy), and the answers to a missing login
(redirect to ``/login``) and to HTTP errors (JSON for the API, an error page for a browser)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException

from admin import csrf
from admin.principals import LoginRequired

CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; object-src 'none'; "
    "frame-src 'none'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def _install_handlers(app: FastAPI) -> None:
    @app.middleware("http")
    async def sessions_and_headers(request: Request, call_next: Callable[[Request], Any]) -> Response:
        session = app.state.auth.read(request)
        request.state.admin = session
        new_pre = None
        if session is not None:
            request.state.csrf_key = session.sid
        else:
            pre = request.cookies.get(csrf.PRESESSION_COOKIE)
            if not csrf.valid_presession(pre):
                pre = new_pre = csrf.new_presession()
            request.state.csrf_key = f"pre:{pre}"
        response: Response = await call_next(request)
        if new_pre and not request.url.path.startswith(("/static", "/metrics", "/healthz")):
            response.set_cookie(
                csrf.PRESESSION_COOKIE,
                new_pre,
                max_age=3600,
                httponly=True,
                samesite="lax",
                secure=app.state.settings.admin_cookie_secure,
                path="/",
            )
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    @app.exception_handler(LoginRequired)
    async def to_login(request: Request, exc: LoginRequired) -> Response:
        return RedirectResponse("/login?" + urlencode({"next": exc.next_path}), status_code=303)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        if request.url.path.startswith("/api") or "text/html" not in request.headers.get("accept", ""):
            return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)
        page = app.state.templates.TemplateResponse(
            request,
            "error.html",
            {"status": exc.status_code, "detail": exc.detail, "user": None},
            status_code=exc.status_code,
        )
        return HTMLResponse(page.body, status_code=exc.status_code, headers=exc.headers)
