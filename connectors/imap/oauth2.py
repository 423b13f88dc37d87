"""OAuth2 access tokens for XOAUTH2 logins (Gmail, Microsoft 365): a token command or a refresh token.

Tokens are cached per account until a minute before they expire. Neither tokens nor secrets are
logged; a failure names the account and the HTTP status, never the request body.
"""

from __future__ import annotations

import shlex
import subprocess
import threading
import time
from dataclasses import dataclass

from connectors.imap.accounts import Account, OAuth2Config
from worker.core.errors import ConfigError, ConnectorError, TransientError

EARLY_REFRESH_S = 60.0
COMMAND_TOKEN_TTL_S = 300.0  # a token command's output carries no expiry: ask it again after this


@dataclass(frozen=True)
class Token:
    value: str
    expires_at: float


_cache: dict[str, Token] = {}
_lock = threading.Lock()


def access_token(account: Account, *, now: float | None = None) -> str:
    """A valid access token for ``account`` (which must use oauth2)."""
    config = account.oauth2
    if config is None:
        raise ConfigError(f"account {account.name}: not an oauth2 account")
    now = time.time() if now is None else now
    with _lock:
        cached = _cache.get(account.name)
        if cached is not None and cached.expires_at - EARLY_REFRESH_S > now:
            return cached.value
    token = token_from_command(account.name, config, now) if config.token_command else refresh(account, now)
    with _lock:
        _cache[account.name] = token
    return token.value


def forget_token(account_name: str) -> None:
    """Drop a cached token (after the server rejected it)."""
    with _lock:
        _cache.pop(account_name, None)


def token_from_command(name: str, config: OAuth2Config, now: float) -> Token:
    assert config.token_command
    try:
        done = subprocess.run(
            shlex.split(config.token_command), capture_output=True, text=True, timeout=60, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as e:
        raise TransientError(f"account {name}: token command failed: {type(e).__name__}") from e
    if done.returncode != 0 or not done.stdout.strip():
        raise TransientError(f"account {name}: token command exited {done.returncode} without a token")
    return Token(done.stdout.strip().splitlines()[-1].strip(), now + COMMAND_TOKEN_TTL_S)


def refresh(account: Account, now: float) -> Token:
    """The refresh-token grant against the provider's token endpoint."""
    import httpx

    config = account.oauth2
    assert config is not None and config.client_id
    client_secret, refresh_token = config.secrets(account.name)
    if refresh_token is None:
        raise ConfigError(f"account {account.name}: oauth2 refresh token is missing")
    form = {
        "grant_type": "refresh_token",
        "client_id": config.client_id,
        "refresh_token": refresh_token.get_secret_value(),
    }
    if client_secret is not None:
        form["client_secret"] = client_secret.get_secret_value()
    scope = config.default_scope()
    if scope:
        form["scope"] = scope
    try:
        response = httpx.post(config.endpoint(), data=form, timeout=30)
    except httpx.HTTPError as e:
        raise TransientError(f"account {account.name}: token endpoint unreachable: {type(e).__name__}") from e
    if response.status_code >= 500 or response.status_code == 429:
        raise TransientError(f"account {account.name}: token endpoint answered {response.status_code}")
    if response.status_code != 200:
        raise ConnectorError(f"account {account.name}: token refresh refused ({response.status_code})")
    body = response.json()
    return Token(str(body["access_token"]), now + float(body.get("expires_in", 3600)))
