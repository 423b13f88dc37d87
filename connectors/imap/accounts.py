"""IMAP accounts from configuration: a YAML file (``MAILROUTE_ACCOUNTS_FILE``), validated on load.

Secrets are never written in the file itself unless you insist: give ``password_file`` /
``password_env`` (and the same for OAuth2 client secrets and refresh tokens). They are held as
``SecretStr``, so a repr or a log line shows ``**********``. How secrets are read, and the OAuth2
block, is :mod:`connectors.imap.credentials`. See docs/imap.md for the reference.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, model_validator

# moved out, used here and still imported from here: the secrets and OAuth2 configuration
from connectors.imap.credentials import OAuth2Config as OAuth2Config
from connectors.imap.credentials import read_secret as read_secret
from worker.core.errors import ConfigError
from worker.db.models import DEFAULT_PROFILE

TlsMode = Literal["ssl", "starttls", "none"]
DEFAULT_PORTS: dict[str, int] = {"ssl": 993, "starttls": 143, "none": 143}


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
