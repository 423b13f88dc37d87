"""Finding a stored mail in its IMAP account, and the connections the action executors borrow.

A mail's UID is only valid with its folder's UIDVALIDITY and only until it is moved. ``locate``
trusts the stored (folder, UIDVALIDITY, UID) when the server still agrees — checked against the
Message-ID — and otherwise searches by Message-ID: the stored folder first, then the targets of
the mail's move actions. What it finds is written back to the row.
"""

from __future__ import annotations

import contextlib
import imaplib
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from imapclient import IMAPClient
from sqlalchemy.orm import Session

from connectors.imap.accounts import Account
from connectors.imap.client import NETWORK_ERRORS, close, connect
from connectors.imap.poller import MID_FIELD, message_id_of
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


def find_by_message_id(
    client: IMAPClient, folder: str, message_id: str, *, reselect: Location | None = None
) -> Location | None:
    """The mail with this Message-ID in ``folder`` (exact match), leaving ``reselect``'s folder selected."""
    try:
        uidvalidity = select(client, folder)
        if uidvalidity is None:
            return None
        for uid in sorted(client.search(["HEADER", "Message-ID", message_id])):
            data = client.fetch([uid], [MID_FIELD]).get(uid)
            if data is not None and message_id_of(data) == message_id:
                return Location(folder, uidvalidity, uid)
        return None
    finally:
        if reselect is not None:
            client.select_folder(reselect.folder)


def locate(
    client: IMAPClient, session: Session, message: Message, *, also: Sequence[str] = ()
) -> Location | None:
    """Where ``message`` is now (its folder left selected), recorded on the row; None if nowhere."""
    del session  # the row is updated in place; the caller's transaction commits it
    uidvalidity = select(client, message.folder)
    if uidvalidity is not None and message.uid and message.uidvalidity == uidvalidity:
        data = client.fetch([message.uid], [MID_FIELD]).get(message.uid)
        if data is not None and (message.message_id is None or message_id_of(data) == message.message_id):
            return Location(message.folder, uidvalidity, message.uid)
    if not message.message_id:
        return None
    moves = [a.target for a in message.actions if a.kind == "imap_move"]
    for folder in dict.fromkeys([message.folder, *also, *moves]):
        found = find_by_message_id(client, folder, message.message_id)
        if found is not None:
            record(message, found)
            return found
    return None


def record(message: Message, where: Location) -> None:
    message.folder, message.uidvalidity, message.uid = where.folder, where.uidvalidity, where.uid


def ensure_folder(client: IMAPClient, folder: str) -> None:
    """Create ``folder`` (and subscribe to it) unless it exists; a concurrent creation is fine."""
    if client.folder_exists(folder):
        return
    try:
        client.create_folder(folder)
    except imaplib.IMAP4.error:
        if not client.folder_exists(folder):
            raise
    with contextlib.suppress(imaplib.IMAP4.error):  # subscribing is a convenience for mail clients
        client.subscribe_folder(folder)


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
