"""Who is calling: a request's principal, from its session cookie or bearer token, cached per request."""

from __future__ import annotations

from fastapi import HTTPException, Request
from sqlalchemy import select

from admin import csrf, identity
from admin.scope import ALL_PROFILES, Principal, principal_of
from worker.db.models import Role, User

SETTINGS_TOKEN_USER = "api-token"  # noqa: S105 - a name, not a secret


class LoginRequired(Exception):
    """An anonymous request for a page: the app answers with a redirect to the login page."""

    def __init__(self, next_path: str):
        super().__init__(next_path)
        self.next_path = next_path


def session_principal(request: Request) -> Principal | None:
    """The enabled user of the request's session cookie, None when anonymous (cached per request)."""
    if hasattr(request.state, "principal"):
        return request.state.principal
    principal = None
    session = request.state.admin
    if session is not None:
        with request.app.state.session_factory() as db_session:
            user = db_session.scalars(select(User).where(User.username == session.user)).first()
            if user is not None and not user.disabled:
                principal = principal_of(user)
    request.state.principal = principal
    return principal


def page_principal(request: Request) -> Principal:
    """The logged-in principal of a page request, else a redirect to the login page."""
    principal = session_principal(request)
    if principal is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise LoginRequired(target if request.method == "GET" else "/")
    return principal


def page_user(request: Request) -> str:
    """The logged-in user's name (see :func:`page_principal`)."""
    return page_principal(request).name


def _token_principal(request: Request, token: str) -> Principal:
    if request.app.state.auth.check_token(token):
        return Principal(name=SETTINGS_TOKEN_USER, role=Role.ADMIN, profiles=frozenset({ALL_PROFILES}))
    with request.app.state.session_factory.begin() as db_session:
        user = identity.by_token(db_session, token)
        principal = principal_of(user) if user is not None else None
    if principal is None:
        raise HTTPException(status_code=401, detail="invalid token", headers={"WWW-Authenticate": "Bearer"})
    return principal


def api_principal(request: Request) -> Principal:
    """The caller of an API route: a bearer token, or a session (with the CSRF header when writing)."""
    if hasattr(request.state, "api_principal"):
        return request.state.api_principal
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        principal = _token_principal(request, header[7:].strip())
    else:
        found = session_principal(request)
        if found is None:
            raise HTTPException(
                status_code=401, detail="login required", headers={"WWW-Authenticate": "Bearer"}
            )
        if request.method not in csrf.SAFE_METHODS:
            csrf.check(request, request.headers.get(csrf.HEADER))
        principal = found
    request.state.api_principal = principal
    return principal


def api_user(request: Request) -> str:
    return api_principal(request).name
