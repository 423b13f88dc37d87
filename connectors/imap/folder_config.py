"""What one poll pass over a folder is given (:class:`FolderConfig`, an :data:`Enqueue`) and what it
reports (:class:`PollResult`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from connectors.imap.accounts import Account
from worker.core.settings import Settings
from worker.db.models import DEFAULT_PROFILE

Enqueue = Callable[[list[int]], None]


@dataclass(frozen=True)
class FolderConfig:
    account: str
    folder: str
    batch: int = 100
    max_bytes: int = 25 * 1024 * 1024
    backlog_limit: int = 1000  # first poll of a folder: only the newest N (0 = all)
    profile: str = DEFAULT_PROFILE  # the routing profile its mail is stored under

    @classmethod
    def of(cls, account: Account, folder: str, settings: Settings) -> FolderConfig:
        """The configuration of one watched folder of ``account``, from the settings."""
        return cls(
            account.name,
            folder,
            batch=settings.imap_fetch_batch,
            max_bytes=settings.max_message_bytes,
            backlog_limit=settings.backlog_limit,
            profile=account.profile_for(folder),
        )


@dataclass
class PollResult:
    uidvalidity: int = 0
    seen: int = 0
    stored: int = 0
    known: int = 0
    skipped_backlog: int = 0
    rescan: bool = False
    queued: list[int] = field(default_factory=list)
