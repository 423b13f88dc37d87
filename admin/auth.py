"""Login: stdlib scrypt password hashes, signed session cookies, and a login rate limit.

Who may log in is ``admin.identity``'s (database users; the settings' admin bootstraps the first).

The session is an itsdangerous-signed cookie holding the user and a random session id, created anew
at every login (no session fixation) and expiring after ``admin_session_max_age_s``. The cookie is
HttpOnly, SameSite=Lax and Secure (unless a setting says otherwise). The session id also keys the
CSRF tokens (see ``admin.csrf``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass

from fastapi import Request
from fastapi.responses import Response
from itsdangerous import BadSignature, URLSafeTimedSerializer

from worker.core.settings import Settings

SESSION_COOKIE = "mailroute_session"
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1


def hash_password(password: str, *, salt: bytes | None = None) -> str:
    """``scrypt$n$r$p$salt$hash`` (base64) — what ``mailroute admin hash-password`` prints."""
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=32)
    b64 = base64.b64encode
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${b64(salt).decode()}${b64(digest).decode()}"


def verify_password(password: str, encoded: str) -> bool:
    """True when ``password`` matches ``encoded``; False for any malformed hash."""
    try:
        scheme, n, r, p, salt, expected = encoded.split("$")
        if scheme != "scrypt":
            return False
        digest = hashlib.scrypt(
            password.encode(),
            salt=base64.b64decode(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=len(base64.b64decode(expected)),
            maxmem=128 * 1024 * 1024,
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(digest, base64.b64decode(expected))


@dataclass(frozen=True)
class AdminSession:
    user: str
    sid: str


class Authenticator:
    """Checks credentials and reads/writes the session cookie for one app."""

    def __init__(self, settings: Settings, secret_key: str):
        self.settings = settings
        self.serializer = URLSafeTimedSerializer(secret_key, salt="mailroute-admin-session")
        self.limiter = LoginLimiter()

    @property
    def enabled(self) -> bool:
        """Whether the settings name a bootstrap admin (database users are checked by the login page)."""
        return self.settings.admin_password_hash is not None

    def check_token(self, token: str) -> bool:
        expected = self.settings.admin_api_token
        return expected is not None and hmac.compare_digest(
            token.encode(), expected.get_secret_value().encode()
        )

    def read(self, request: Request) -> AdminSession | None:
        cookie = request.cookies.get(SESSION_COOKIE)
        if not cookie:
            return None
        try:
            data = self.serializer.loads(cookie, max_age=self.settings.admin_session_max_age_s)
        except BadSignature:
            return None
        if (
            not isinstance(data, dict)
            or not isinstance(data.get("u"), str)
            or not isinstance(data.get("s"), str)
        ):
            return None
        return AdminSession(user=data["u"], sid=data["s"])

    def start(self, response: Response, user: str) -> AdminSession:
        """A brand-new session (new id) on ``response``."""
        session = AdminSession(user=user, sid=secrets.token_urlsafe(24))
        response.set_cookie(
            SESSION_COOKIE,
            self.serializer.dumps({"u": session.user, "s": session.sid}),
            max_age=self.settings.admin_session_max_age_s,
            httponly=True,
            samesite="lax",
            secure=self.settings.admin_cookie_secure,
            path="/",
        )
        return session

    def end(self, response: Response) -> None:
        response.delete_cookie(
            SESSION_COOKIE, path="/", httponly=True, samesite="lax", secure=self.settings.admin_cookie_secure
        )


class LoginLimiter:
    """At most ``limit`` failed logins per client address in ``window_s`` seconds."""

    def __init__(self, limit: int = 5, window_s: float = 300.0):
        self.limit, self.window_s = limit, window_s
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def blocked(self, client: str) -> bool:
        with self._lock:
            recent = self._recent(client)
            return len(recent) >= self.limit

    def failed(self, client: str) -> None:
        with self._lock:
            self._recent(client).append(time.monotonic())

    def succeeded(self, client: str) -> None:
        with self._lock:
            self._failures.pop(client, None)

    def _recent(self, client: str) -> deque[float]:
        recent = self._failures.setdefault(client, deque())
        while recent and recent[0] < time.monotonic() - self.window_s:
            recent.popleft()
        return recent
