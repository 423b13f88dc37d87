"""Request dependencies: the database session, the logged-in user, the runtime."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import HTTPException, Request
from sqlalchemy import select
from sqlalchemy.orm import Session

from admin import csrf
from rules import RuleSet
from worker.db.models import DEFAULT_PROFILE, Message


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


def page_user(request: Request) -> str:
    """The logged-in user of a page request, else a redirect to the login page."""
    session = request.state.admin
    if session is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise LoginRequired(target if request.method == "GET" else "/")
    return str(session.user)


def api_user(request: Request) -> str:
    """The caller of an API route: a bearer token, or a session (with the CSRF header when writing)."""
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        if request.app.state.auth.check_token(header[7:].strip()):
            return "api-token"
        raise HTTPException(status_code=401, detail="invalid token", headers={"WWW-Authenticate": "Bearer"})
    session = request.state.admin
    if session is None:
        raise HTTPException(status_code=401, detail="login required", headers={"WWW-Authenticate": "Bearer"})
    if request.method not in csrf.SAFE_METHODS:
        csrf.check(request, request.headers.get(csrf.HEADER))
    return str(session.user)


def safe_next(path: str | None) -> str:
    """A local path to go to after login (never another site)."""
    if not path or not path.startswith("/") or path.startswith("//") or "\\" in path:
        return "/review"
    return path


def require_publisher(request: Request) -> str:
    """The logged-in user, when allowed to publish rule sets (today: every login is the admin).

    The one place a role check goes when reviewers get their own logins: raise 403 here.
    """
    return page_user(request)


def rule_set_of(request: Request, session: Session, message_id: int) -> RuleSet:
    """The live rule set of the message's routing profile (what reviewing it may choose from).

    A rule-set provider injected into the app (tests, embedding) serves every profile.
    """
    profile = session.scalar(select(Message.profile).where(Message.id == message_id)) or DEFAULT_PROFILE
    if profile == DEFAULT_PROFILE or request.app.state.rule_set_injected:
        return request.app.state.rule_set()
    return request.app.state.profiles(profile).rule_set
