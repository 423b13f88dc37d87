"""Where an IMAP account's secrets come from, and its OAuth2 (XOAUTH2) configuration.

A secret is given inline, as a file (``password_file``, ``client_secret_file``, ``refresh_token_file``:
its content, stripped) or as an environment variable (``..._env``); :func:`read_secret` resolves the
first one given and holds it as ``SecretStr``, so a repr or a log line shows ``**********``.
:class:`OAuth2Config` is an account's ``oauth2:`` block (see docs/imap.md); :mod:`connectors.imap.accounts`
uses both.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

from worker.core.errors import ConfigError


def read_secret(value: SecretStr | None, file: Path | None, env: str | None, what: str) -> SecretStr | None:
    """The first of: the inline value, the file's content (stripped), the environment variable."""
    if value is not None:
        return value
    if file is not None:
        try:
            return SecretStr(Path(file).read_text().strip())
        except OSError as e:
            raise ConfigError(f"{what}: cannot read secret file {file}: {e.strerror}") from e
    if env is not None:
        if env not in os.environ:
            raise ConfigError(f"{what}: environment variable {env} is not set")
        return SecretStr(os.environ[env])
    return None


class OAuth2Config(BaseModel):
    """XOAUTH2: either a command that prints an access token, or the refresh-token flow."""

    model_config = ConfigDict(extra="forbid")

    provider: Literal["gmail", "microsoft", "custom"] = "custom"
    token_command: str | None = Field(None, description="Shell command printing a fresh access token.")
    token_url: str | None = None
    client_id: str | None = None
    client_secret: SecretStr | None = None
    client_secret_file: Path | None = None
    client_secret_env: str | None = None
    refresh_token: SecretStr | None = None
    refresh_token_file: Path | None = None
    refresh_token_env: str | None = None
    scope: str | None = None
    tenant: str = "common"

    @model_validator(mode="after")
    def _one_flow(self) -> OAuth2Config:
        has_refresh = any((self.refresh_token, self.refresh_token_file, self.refresh_token_env))
        if not self.token_command and not (has_refresh and self.client_id):
            raise ValueError("oauth2 needs token_command, or client_id with a refresh_token(_file/_env)")
        return self

    def endpoint(self) -> str:
        if self.token_url:
            return self.token_url
        if self.provider == "gmail":
            return "https://oauth2.googleapis.com/token"
        if self.provider == "microsoft":
            return f"https://login.microsoftonline.com/{self.tenant}/oauth2/v2.0/token"
        raise ConfigError("oauth2: token_url is required for provider 'custom'")

    def default_scope(self) -> str | None:
        if self.scope:
            return self.scope
        if self.provider == "microsoft":
            return "https://outlook.office.com/IMAP.AccessAsUser.All offline_access"
        return None  # Google: the refresh token already carries https://mail.google.com/

    def secrets(self, account: str) -> tuple[SecretStr | None, SecretStr | None]:
        """(client_secret, refresh_token), resolved from their inline/file/env sources."""
        what = f"account {account}: oauth2"
        return (
            read_secret(self.client_secret, self.client_secret_file, self.client_secret_env, what),
            read_secret(self.refresh_token, self.refresh_token_file, self.refresh_token_env, what),
        )
