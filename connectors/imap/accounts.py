"""IMAP accounts from configuration: a YAML file (``MAILROUTE_ACCOUNTS_FILE``), validated on load.

Secrets are never written in the file itself unless you insist: give ``password_file`` /
``password_env`` (and the same for OAuth2 client secrets and refresh tokens). They are held as
``SecretStr``, so a repr or a log line shows ``**********``. See docs/imap.md for the reference.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, model_validator

from worker.core.errors import ConfigError
from worker.db.models import DEFAULT_PROFILE

TlsMode = Literal["ssl", "starttls", "none"]
DEFAULT_PORTS: dict[str, int] = {"ssl": 993, "starttls": 143, "none": 143}


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


class Account(BaseModel):
    """One IMAP login and the folders to watch on it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=255)
    host: str
    port: int | None = None
    tls: TlsMode = "ssl"
    username: str
    password: SecretStr | None = None
    password_file: Path | None = None
    password_env: str | None = None
    oauth2: OAuth2Config | None = None
    folders: tuple[str, ...] = ("INBOX",)
    verify_tls: bool = True
    profile: str = Field(
        DEFAULT_PROFILE, min_length=1, max_length=255, description="Routing profile of its folders."
    )
    profiles: dict[str, str] = Field(default_factory=dict, description="Folder -> routing profile overrides.")

    @model_validator(mode="after")
    def _credentials(self) -> Account:
        has_password = any((self.password, self.password_file, self.password_env))
        if has_password == (self.oauth2 is not None):
            raise ValueError("give exactly one of password/password_file/password_env or oauth2")
        if not self.folders:
            raise ValueError("folders: list at least one folder")
        unknown = sorted(set(self.profiles) - set(self.folders))
        if unknown:
            raise ValueError(f"profiles: folder(s) not watched by this account: {', '.join(unknown)}")
        return self

    def profile_for(self, folder: str) -> str:
        """The routing profile (rule set) that decides mail of ``folder``."""
        return self.profiles.get(folder, self.profile)

    @property
    def imap_port(self) -> int:
        return self.port or DEFAULT_PORTS[self.tls]

    def secret_password(self) -> SecretStr:
        secret = read_secret(self.password, self.password_file, self.password_env, f"account {self.name}")
        if secret is None:
            raise ConfigError(f"account {self.name}: no password configured")
        return secret


class AccountsFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    accounts: list[Account]

    @model_validator(mode="after")
    def _unique(self) -> AccountsFile:
        names = [a.name for a in self.accounts]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"duplicate account names: {', '.join(duplicates)}")
        return self


def parse_accounts(text: str, source: str = "<string>") -> dict[str, Account]:
    """Accounts by name from YAML text; raises ConfigError naming the source and the bad key."""
    try:
        data = yaml.safe_load(text) or {}
        parsed = AccountsFile.model_validate(data)
    except yaml.YAMLError as e:
        raise ConfigError(f"{source}: invalid YAML: {e}") from e
    except ValidationError as e:
        first = e.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise ConfigError(f"{source}: {where}: {first['msg']}") from None  # no input echo: secrets
    return {account.name: account for account in parsed.accounts}


def load_accounts(path: Path | str | None) -> dict[str, Account]:
    """Accounts from ``path`` (re-read when the file changes); none when no file is configured."""
    if path is None:
        return {}
    file = Path(path)
    try:
        mtime = file.stat().st_mtime
    except OSError as e:
        raise ConfigError(f"accounts file {file}: {e.strerror}") from e
    return _load_cached(str(file), mtime)


@lru_cache(maxsize=8)
def _load_cached(path: str, mtime: float) -> dict[str, Account]:
    del mtime  # part of the cache key only
    return parse_accounts(Path(path).read_text(), source=path)
