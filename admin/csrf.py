"""CSRF tokens: an HMAC of the session id, checked on every state-changing request.

A logged-in user's token derives from the session id, so it changes at every login and is useless
for another session. The login form itself is protected by a pre-session: a random HttpOnly cookie
given to anonymous visitors, whose HMAC is the login form's token. Forms send the token in the
``csrf_token`` field; JSON API calls made with a session cookie send it in ``X-CSRF-Token``.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

from fastapi import HTTPException, Request

PRESESSION_COOKIE = "mailroute_presession"
FORM_FIELD = "csrf_token"
HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_PRESESSION_RE = re.compile(r"^[A-Za-z0-9_-]{32}$")


def new_presession() -> str:
    return secrets.token_urlsafe(24)


def valid_presession(value: str | None) -> bool:
    return bool(value) and bool(_PRESESSION_RE.match(value or ""))


def token_for(secret: str, key: str) -> str:
    """The CSRF token of one session (``key`` is its session id, or ``pre:`` + the pre-session)."""
    return hmac.new(secret.encode(), f"csrf:{key}".encode(), hashlib.sha256).hexdigest()


def request_token(request: Request) -> str:
    """The token this request's forms must carry (templates call it)."""
    return token_for(request.app.state.secret, request.state.csrf_key)


def check(request: Request, sent: str | None) -> None:
    """Raise 403 unless ``sent`` is this session's token."""
    if not sent or not hmac.compare_digest(sent.encode(), request_token(request).encode()):
        raise HTTPException(
            status_code=403, detail="CSRF token missing or invalid; reload the page and retry"
        )


async def protect_form(request: Request) -> None:
    """Dependency for page routes: an unsafe method needs the form's token."""
    if request.method in SAFE_METHODS:
        return
    sent: str | None = None
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        value = (await request.form()).get(FORM_FIELD)
        sent = value if isinstance(value, str) else None
    check(request, sent or request.headers.get(HEADER))
