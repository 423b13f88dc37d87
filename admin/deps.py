"""Request dependencies: the database session, the logged-in principal with its role, the runtime.

Every route but the open ones (health, metrics, login, static) depends on :func:`require_page` or
:func:`require_api` with the least role it needs; a principal below it gets 403. The principal comes
from the session cookie (a user in the database, re-read per request so a disabled user is out at
once) or, for the API, a bearer token (a user's token, or the settings' ``MAILROUTE_ADMIN_API_TOKEN``,
which acts as an admin named ``api-token``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from fastapi import HTTPException, Request
from sqlalchemy import select
from sqlalchemy.orm import Session

from admin import csrf, identity
from admin.scope import ALL_PROFILES, Principal, principal_of
from rules import RuleSet
from worker.db.models import DEFAULT_PROFILE, Message, Role, User

SETTINGS_TOKEN_USER = "api-token"  # noqa: S105 - a name, not a secret


class LoginRequired(Exception):
    """An anonymous request for a page: the app answers with a redirect to the login page."""

    def __init__(self, next_path: str):
        super().__init__(next_path)
        self.next_path = next_path


def db(request: Request) -> Iterator[Session]:
    """A session per request; endpoints commit what they change."""
    session: Session = request.app.state.session_factory()
    try:
        yield session
    finally:
        session.close()


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


def _forbid(principal: Principal, role: str) -> None:
    if not principal.at_least(role):
        raise HTTPException(status_code=403, detail=f"this needs the {role} role; you are {principal.role}")


def require_page(role: str) -> Callable[[Request], Principal]:
    """Dependency: a logged-in page user with at least ``role``."""

    def dependency(request: Request) -> Principal:
        principal = page_principal(request)
        _forbid(principal, role)
        return principal

    return dependency


def require_api(role: str) -> Callable[[Request], Principal]:
    """Dependency: an API caller with at least ``role``."""

    def dependency(request: Request) -> Principal:
        principal = api_principal(request)
        _forbid(principal, role)
        return principal

    return dependency


def safe_next(path: str | None) -> str:
    """A local path to go to after login (never another site)."""
    if not path or not path.startswith("/") or path.startswith("//") or "\\" in path:
        return "/review"
    return path


def require_publisher(request: Request) -> str:
    """The logged-in user, when allowed to publish rule sets: admins only (403 for the others)."""
    return require_page(Role.ADMIN)(request).name


def rule_set_of(request: Request, session: Session, message_id: int) -> RuleSet:
    """The live rule set of the message's routing profile (what reviewing it may choose from).

    A rule-set provider injected into the app (tests, embedding) serves every profile.
    """
    profile = session.scalar(select(Message.profile).where(Message.id == message_id)) or DEFAULT_PROFILE
    if profile == DEFAULT_PROFILE or request.app.state.rule_set_injected:
        return request.app.state.rule_set()
    return request.app.state.profiles(profile).rule_set
