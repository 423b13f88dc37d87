"""One pass over one IMAP folder: new UIDs past the cursor → stored rows → cursor → classify queue.

The cursor (UIDVALIDITY, last UID) is written in the same transaction as the batch's message rows,
so it can never get ahead of them; the batch is queued only after that commit (a crash in between
leaves RECEIVED rows that ``worker.tasks.sweeper`` re-queues). A changed UIDVALIDITY restarts from UID 1:
mails already known (same Message-ID in this folder, or same content) only get their new UID, so
nothing is stored or decided twice. Bodies are fetched with BODY.PEEK[] and the folder is opened
read-only (EXAMINE), so polling never sets \\Seen.

New mail announced while the pass runs (an untagged EXISTS in a SEARCH/FETCH answer) is never
announced again, and mail that arrives after the pass's last command (while its batch is classified
in-process) is not reported when IDLE starts: :func:`has_news` (a NOOP, then the announcements)
tells the watcher to poll again instead of idling.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from imapclient import IMAPClient
from sqlalchemy import or_, select
from sqlalchemy.orm import Session, sessionmaker

from connectors.imap.accounts import Account
from worker.core.settings import Settings
from worker.db.models import DEFAULT_PROFILE, Action, Message, MessageStatus, PollCursor
from worker.store.messages import Origin, extract_message_id, sha256_hex, store_messages

log = logging.getLogger(__name__)

MID_FIELD = "BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)]"
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


def fetch_new_uids(client: IMAPClient, last_uid: int) -> list[int]:
    """UIDs above ``last_uid`` in the selected folder, ascending (``N:*`` always matches the last one)."""
    return sorted(uid for uid in client.search(["UID", f"{last_uid + 1}:*"]) if uid > last_uid)


def take_announcements(client: IMAPClient) -> bool:
    """True when the server announced new mail (untagged EXISTS/RECENT) since the last call; clears them.

    imaplib keeps untagged responses that no command asked for in ``untagged_responses``; a mail
    reported there is not reported again by the next IDLE, so it would wait for the safety poll.
    """
    untagged = getattr(getattr(client, "_imap", None), "untagged_responses", None)
    if not isinstance(untagged, dict):
        return False
    exists = untagged.pop("EXISTS", None)
    recent = untagged.pop("RECENT", None)
    return bool(exists or recent)


def has_news(client: IMAPClient) -> bool:
    """True when mail arrived since the pass: announced during it, or reported by a NOOP now."""
    if take_announcements(client):
        return True
    _, responses = client.noop()  # the server syncs the mailbox and reports what it has not told yet
    announced = take_announcements(client)
    return announced or any(len(r) > 1 and r[1] in (b"EXISTS", b"RECENT") for r in responses)


def read_cursor(sessions: sessionmaker[Session], account: str, folder: str) -> tuple[int | None, int] | None:
    with sessions() as session:
        row = session.scalar(
            select(PollCursor).where(PollCursor.account == account, PollCursor.folder == folder)
        )
        return None if row is None else (row.uidvalidity, row.last_uid)


def write_cursor(session: Session, account: str, folder: str, uidvalidity: int, last_uid: int) -> None:
    row = session.scalar(select(PollCursor).where(PollCursor.account == account, PollCursor.folder == folder))
    if row is None:
        session.add(PollCursor(account=account, folder=folder, uidvalidity=uidvalidity, last_uid=last_uid))
    else:
        row.uidvalidity, row.last_uid = uidvalidity, last_uid


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


def store_batch(
    client: IMAPClient,
    sessions: sessionmaker[Session],
    config: FolderConfig,
    result: PollResult,
    batch: Sequence[int],
) -> list[int]:
    """Fetch, store and commit one batch with the cursor; returns the ids still to be decided.

    A mail is known (only re-pointed to its new UID) when a row with the same Message-ID AND the
    same content is in this folder or being moved here; a different mail reusing a Message-ID is new.
    """
    meta = client.fetch(batch, ["RFC822.SIZE", MID_FIELD])
    mids = {uid: message_id_of(data) for uid, data in meta.items()}
    small = [uid for uid in batch if uid in meta and int(meta[uid][b"RFC822.SIZE"]) <= config.max_bytes]
    large = [uid for uid in batch if uid in meta and uid not in small]
    bodies = {
        uid: body_of(data, b"BODY[]")
        for uid, data in (client.fetch(small, ["BODY.PEEK[]"]) if small else {}).items()
    }
    heads = {
        uid: body_of(data, b"BODY[HEADER]")
        for uid, data in (client.fetch(large, ["BODY.PEEK[HEADER]"]) if large else {}).items()
    }
    raws = {
        uid: bodies[uid] if uid in bodies else heads[uid] for uid in batch if uid in bodies or uid in heads
    }
    ids: list[int] = []
    with sessions.begin() as session:
        origins = {
            uid: Origin(config.account, config.folder, result.uidvalidity, uid, config.profile)
            for uid in batch
        }
        known = find_known(
            session,
            config,
            {uid: (mid, sha256_hex(raws[uid])) for uid, mid in mids.items() if mid and uid in raws},
        )
        fetched = [uid for uid in raws if uid not in known]
        stored = store_messages(
            session, [(raws[uid], origins[uid]) for uid in fetched], max_bytes=config.max_bytes
        )
        new_rows = dict(zip(fetched, stored, strict=True))
        for uid in batch:
            row_id = known.get(uid)
            if row_id is not None:  # expunged-since-SEARCH UIDs are in neither map
                relocate(session, row_id, origins[uid])
                result.known += 1
            elif uid in new_rows:
                row = new_rows[uid]
                if row.created and uid in heads:
                    mark_headers_only(session, row.id, int(meta[uid][b"RFC822.SIZE"]), config.max_bytes)
                result.stored += int(row.created)
                result.known += int(not row.created)
                row_id = row.id
            else:
                continue
            ids.append(row_id)
        write_cursor(session, config.account, config.folder, result.uidvalidity, max(batch))
        pending = list(
            session.scalars(
                select(Message.id).where(Message.id.in_(ids), Message.status != MessageStatus.DECIDED)
            )
        )
    result.seen += len(ids)
    return sorted(set(pending))


def message_id_of(data: dict[bytes, Any]) -> str | None:
    for key, value in data.items():
        if key.startswith(b"BODY[HEADER.FIELDS"):
            return extract_message_id(bytes(value or b""))
    return None


def body_of(data: dict[bytes, Any], key: bytes) -> bytes:
    return bytes(data.get(key) or b"")


def find_known(
    session: Session, config: FolderConfig, identities: dict[int, tuple[str, str]]
) -> dict[int, int]:
    """UID → row id of the mails (UID → (Message-ID, content hash)) already stored for this folder.

    A row matches when both its Message-ID and its content are the same, it is in this folder or
    mailroute is moving it here (its ``imap_move`` names this folder until the move commits), and
    no earlier UID of the batch claimed it: a different mail reusing a Message-ID is not known.
    """
    if not identities:
        return {}
    moved_here = select(Action.message_id).where(Action.kind == "imap_move", Action.target == config.folder)
    rows = session.execute(
        select(Message.message_id_hash, Message.content_hash, Message.id)
        .where(
            Message.account == config.account,
            Message.message_id_hash.in_({sha256_hex(mid.encode()) for mid, _ in identities.values()}),
            or_(Message.folder == config.folder, Message.id.in_(moved_here)),
        )
        .order_by(Message.id)
    )
    free: dict[tuple[str | None, str | None], list[int]] = {}
    for mid_hash, content_hash, row_id in rows:
        free.setdefault((mid_hash, content_hash), []).append(row_id)
    known: dict[int, int] = {}
    for uid in sorted(identities):
        mid, content_hash = identities[uid]
        candidates = free.get((sha256_hex(mid.encode()), content_hash))
        if candidates:
            known[uid] = candidates.pop(0)
    return known


def relocate(session: Session, row_id: int, origin: Origin) -> None:
    row = session.get(Message, row_id)
    if row is not None and (row.folder, row.uidvalidity, row.uid) != (
        origin.folder,
        origin.uidvalidity,
        origin.uid,
    ):
        row.folder, row.uidvalidity, row.uid = origin.folder, origin.uidvalidity, origin.uid


def mark_headers_only(session: Session, row_id: int, size: int, max_bytes: int) -> None:
    """A mail over the size limit: only its header was fetched; say so on the row."""
    row = session.get(Message, row_id)
    if row is not None:
        row.size, row.truncated = size, True
        row.parse_warnings = [f"mail of {size} bytes exceeds the {max_bytes}-byte limit: stored headers only"]
