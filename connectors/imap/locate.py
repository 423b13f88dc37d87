"""Finding stored mails in their IMAP account, a whole batch at once.

A mail's UID is only valid with its folder's UIDVALIDITY and only until it is moved. The stored
(folder, UIDVALIDITY, UID) is trusted when the server still agrees — checked against the Message-ID
with one FETCH per folder. The others are searched by Message-ID with one SEARCH per folder (the
stored folder, then ``also``, then the targets of the mail's move actions). Two mails may share a
Message-ID: then the size, and if need be the content hash, says which one was decided — an action
never reaches a mail that merely shares a Message-ID. What is found is written back to the row.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from imapclient import IMAPClient

from connectors.imap.folders import server_folder
from connectors.imap.mailbox import Location, record, select
from worker.db.models import Message
from worker.store.messages import extract_message_id, sha256_hex

SIZE = b"RFC822.SIZE"
MID_FIELD = "BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)]"


def message_id_of(data: dict[bytes, Any]) -> str | None:
    """The Message-ID in a FETCH of :data:`MID_FIELD` (None when absent)."""
    for key, value in data.items():
        if key.startswith(b"BODY[HEADER.FIELDS"):
            return extract_message_id(bytes(value or b""))
    return None


def locate_many(
    client: IMAPClient, messages: Sequence[Message], *, also: Sequence[str] = ()
) -> dict[int, Location]:
    """Message id → where that mail is now (rows updated); mails found nowhere are absent."""
    found: dict[int, Location] = {}
    for folder in dict.fromkeys(m.folder for m in messages):
        uidvalidity = select(client, folder)
        check = [m for m in messages if m.folder == folder and m.uid and m.uidvalidity == uidvalidity]
        if uidvalidity is None or not check:
            continue
        data = client.fetch(sorted({int(m.uid or 0) for m in check}), [MID_FIELD])
        for m in check:
            item = data.get(m.uid)
            if item is not None and (m.message_id is None or message_id_of(item) == m.message_id):
                found[m.id] = Location(folder, uidvalidity, m.uid)
    lost = [m for m in messages if m.id not in found and m.message_id]
    places: dict[str, list[Message]] = {}
    names: dict[str, str] = {}  # a move target → the server's name, asked once per batch
    for m in lost:
        for action in m.actions:
            if action.kind == "imap_move" and action.target not in names:
                names[action.target] = server_folder(client, action.target)
        moves = [names[a.target] for a in m.actions if a.kind == "imap_move"]
        for folder in dict.fromkeys([m.folder, *also, *moves]):
            places.setdefault(folder, []).append(m)
    for folder, candidates in places.items():
        rows = [m for m in candidates if m.id not in found]
        for m, where in search(client, folder, rows).items():
            record(m, where)
            found[m.id] = where
    return found


def search(client: IMAPClient, folder: str, messages: Sequence[Message]) -> dict[Message, Location]:
    """The mails among ``messages`` that are in ``folder``: one SEARCH, one FETCH (more only for twins)."""
    mids = sorted({m.message_id for m in messages if m.message_id})
    if not mids:
        return {}
    uidvalidity = select(client, folder)
    if uidvalidity is None:
        return {}
    criteria: list[str] = ["OR"] * (len(mids) - 1)
    for mid in mids:
        criteria += ["HEADER", "Message-ID", mid]
    uids = sorted(client.search(criteria))
    data = client.fetch(uids, [MID_FIELD, "RFC822.SIZE"]) if uids else {}
    by_mid: dict[str | None, list[int]] = {}
    for uid in sorted(data):
        by_mid.setdefault(message_id_of(data[uid]), []).append(uid)
    out: dict[Message, Location] = {}
    for m in messages:
        uid = pick(client, m, by_mid.get(m.message_id, []), data)
        if uid is not None:
            by_mid[m.message_id].remove(uid)  # each mail on the server answers for one row
            out[m] = Location(folder, uidvalidity, uid)
    return out


def pick(client: IMAPClient, message: Message, uids: list[int], data: dict[int, Any]) -> int | None:
    """Which of ``uids`` (same Message-ID) is ``message``: the only one of its size, else of its content."""
    sized = [uid for uid in uids if not message.size or int(data[uid].get(SIZE) or -1) == message.size]
    if len(sized) == 1:
        return sized[0]
    return same_content(client, message, sized or uids)


def same_content(client: IMAPClient, message: Message, uids: list[int]) -> int | None:
    """The first of ``uids`` whose bytes hash to the row's content hash (headers only if truncated)."""
    if not uids or not message.content_hash:
        return uids[0] if len(uids) == 1 else None
    part, key = ("BODY.PEEK[HEADER]", b"BODY[HEADER]") if message.truncated else ("BODY.PEEK[]", b"BODY[]")
    bodies = client.fetch(uids, [part])
    for uid in uids:
        if sha256_hex(bytes(bodies.get(uid, {}).get(key) or b"")) == message.content_hash:
            return uid
    return None


def locate(client: IMAPClient, message: Message, *, also: Sequence[str] = ()) -> Location | None:
    """Where ``message`` is now, its folder left selected; None if nowhere."""
    where = locate_many(client, [message], also=also).get(message.id)
    if where is not None:
        select(client, where.folder)
    return where
