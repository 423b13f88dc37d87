"""Request dependencies: the database session, the logged-in principal with its role, the runtime.

Every route but the open ones (health, metrics, login, static) depends on :func:`require_page` or
:func:`require_api` with the least role it needs; a principal below it gets 403. The principal
(:mod:`admin.principals`) comes from the session cookie (a user in the database, re-read per request so
a disabled user is out at once) or, for the API, a bearer token (a user's token, or the settings'
``MAILROUTE_ADMIN_API_TOKEN``, which acts as an admin named ``api-token``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from fastapi import HTTPException, Request
from sqlalchemy import select
from sqlalchemy.orm import Session

# moved out, used here and still imported from here: the request's principal
from admin.principals import SETTINGS_TOKEN_USER as SETTINGS_TOKEN_USER
from admin.principals import LoginRequired as LoginRequired
from admin.principals import api_principal as api_principal
from admin.principals import api_user as api_user
from admin.principals import page_principal as page_principal
from admin.principals import page_user as page_user
from admin.principals import session_principal as session_principal
from admin.scope import Principal
from rules import RuleSet
from worker.db.models import DEFAULT_PROFILE, Message, Role


def db(request: Request) -> Iterator[Session]:
    """A session per request; endpoints commit what they change."""
    session: Session = request.app.state.session_factory()
    try:
        yield session
    finally:
        session.close()


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
