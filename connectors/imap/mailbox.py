"""Where a stored mail is (folder, UIDVALIDITY, UID), and the connections the action executors borrow.

Locating a mail whose UID changed is :mod:`connectors.imap.locate`; folder names as the server
spells them (namespace, delimiter) and creating folders are :mod:`connectors.imap.folders`.
"""

from __future__ import annotations

import imaplib
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from imapclient import IMAPClient

from connectors.imap.accounts import Account
from connectors.imap.client import NETWORK_ERRORS, close, connect
from worker.db.models import Message


@dataclass(frozen=True)
class Location:
    folder: str
    uidvalidity: int | None
    uid: int | None


def select(client: IMAPClient, folder: str) -> int | None:
    """Select ``folder`` read-write; its UIDVALIDITY, or None when the folder does not exist."""
    try:
        info = client.select_folder(folder)
    except imaplib.IMAP4.abort:
        raise
    except imaplib.IMAP4.error:
        return None
    return int(info[b"UIDVALIDITY"])


def record(message: Message, where: Location) -> None:
    message.folder, message.uidvalidity, message.uid = where.folder, where.uidvalidity, where.uid


_local = threading.local()


@contextmanager
def pooled_client(account: Account) -> Iterator[IMAPClient]:
    """A logged-in connection kept per thread and account; dropped after any error."""
    pool: dict[str, IMAPClient] = _local.__dict__.setdefault("clients", {})
    client = pool.pop(account.name, None) or connect(account)
    try:
        yield client
    except BaseException as e:
        if isinstance(e, NETWORK_ERRORS):
            close(client)
        else:
            pool[account.name] = client  # an IMAP NO/BAD leaves the connection usable
        raise
    pool[account.name] = client


def close_pooled() -> None:
    """Log out this thread's pooled connections (end of a worker, tests)."""
    pool: dict[str, IMAPClient] = _local.__dict__.setdefault("clients", {})
    while pool:
        close(pool.popitem()[1])
