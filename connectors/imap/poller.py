"""One pass over one IMAP folder: new UIDs past the cursor → stored rows → cursor → classify queue.

The cursor (UIDVALIDITY, last UID) is written in the same transaction as the batch's message rows
(:mod:`connectors.imap.batch`), so it can never get ahead of them; the batch is queued only after that
commit (a crash in between leaves RECEIVED rows that ``worker.tasks.sweeper`` re-queues). A changed
UIDVALIDITY restarts from UID 1: mails already known (same Message-ID in this folder, or same content)
only get their new UID (:mod:`connectors.imap.known`), so nothing is stored or decided twice. Bodies are
fetched with BODY.PEEK[] and the folder is opened read-only (EXAMINE), so polling never sets \\Seen.

Mail the server announces while the pass runs is left for the watcher: see
:mod:`connectors.imap.announcements`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from imapclient import IMAPClient
from sqlalchemy.orm import Session, sessionmaker

from connectors.imap.announcements import take_announcements
from connectors.imap.batch import store_batch
from connectors.imap.cursor import read_cursor, write_cursor
from connectors.imap.folder_config import Enqueue, FolderConfig, PollResult

log = logging.getLogger(__name__)


def fetch_new_uids(client: IMAPClient, last_uid: int) -> list[int]:
    """UIDs above ``last_uid`` in the selected folder, ascending (``N:*`` always matches the last one)."""
    return sorted(uid for uid in client.search(["UID", f"{last_uid + 1}:*"]) if uid > last_uid)


def poll_folder_once(
    client: IMAPClient,
    sessions: sessionmaker[Session],
    config: FolderConfig,
    *,
    enqueue: Enqueue | None = None,
    progress: Callable[[int, int], None] | None = None,
    before_batch: Callable[[], None] | None = None,
) -> PollResult:
    """Store every mail past the cursor in batches, advancing the cursor with each committed batch."""
    info = client.select_folder(config.folder, readonly=True)
    take_announcements(client)  # the SELECT's own EXISTS: what this pass will see anyway
    result = PollResult(uidvalidity=int(info[b"UIDVALIDITY"]))
    cursor = read_cursor(sessions, config.account, config.folder)
    last_uid = cursor[1] if cursor and cursor[0] == result.uidvalidity else 0
    if cursor and cursor[0] != result.uidvalidity:
        result.rescan = True
        log.warning(
            "%s/%s: UIDVALIDITY changed %s -> %s; rescanning (known mails are matched, not re-decided)",
            config.account,
            config.folder,
            cursor[0],
            result.uidvalidity,
        )
    uids = fetch_new_uids(client, last_uid)
    if cursor is None and config.backlog_limit and len(uids) > config.backlog_limit:
        result.skipped_backlog = len(uids) - config.backlog_limit
        uids = uids[-config.backlog_limit :]
        log.info(
            "%s/%s: first poll, leaving %d older mails alone",
            config.account,
            config.folder,
            result.skipped_backlog,
        )
    if not uids and (cursor is None or result.rescan):
        with sessions.begin() as session:  # remember the UIDVALIDITY of an empty folder
            write_cursor(session, config.account, config.folder, result.uidvalidity, last_uid)
    for start in range(0, len(uids), config.batch):
        if before_batch is not None:
            before_batch()
        batch = uids[start : start + config.batch]
        pending = store_batch(client, sessions, config, result, batch)
        result.queued.extend(pending)
        if enqueue is not None and pending:
            enqueue(pending)
        if progress is not None:
            progress(len(batch), len(uids))
    return result
