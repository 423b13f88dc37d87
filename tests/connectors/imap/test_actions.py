"""Mailbox actions against a real Dovecot, verified by reading the mailbox back; twice = once."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from connectors.imap.client import session
from connectors.imap.folder_config import FolderConfig
from connectors.imap.poller import poll_folder_once
from tests.connectors.conftest import ACCOUNT, ImapEnv, append, imap, make_mail
from worker.db.models import Action, ActionStatus, Message
from worker.db.session import session_factory, session_scope
from worker.outbox.runner import run_action
from worker.store.messages import Origin, store_message

pytestmark = pytest.mark.integration


def poll(env: ImapEnv, folder: str = "INBOX") -> None:
    with session(env.account(), env.settings) as client:
        poll_folder_once(client, session_factory(env.db_url), FolderConfig(ACCOUNT, folder))


def stored(env: ImapEnv, i: int = 1, folder: str = "INBOX") -> int:
    append(env.server, [make_mail(i)], folder=folder)
    poll(env, folder)
    with session_factory(env.db_url)() as db:
        row_id = db.scalar(select(Message.id).where(Message.message_id == f"t-{i}@example.com"))
    assert row_id is not None
    return int(row_id)


def act(env: ImapEnv, message_id: int, kind: str, target: str, desired: str = "present") -> str:
    """Create (or reset) the action row and run it; returns its status."""
    with session_scope(env.db_url) as db:
        row = db.scalar(
            select(Action).where(
                Action.message_id == message_id, Action.kind == kind, Action.target == target
            )
        )
        if row is None:
            row = Action(message_id=message_id, kind=kind, target=target, desired=desired)
            db.add(row)
        row.status, row.desired = ActionStatus.PENDING, desired
        db.flush()
        action_id = row.id
    with session_scope(env.db_url) as db:
        return run_action(db, action_id)


def mailbox(env: ImapEnv, folder: str) -> dict[str, set[bytes]]:
    """Message-ID → flags of every mail in ``folder`` (read-only)."""
    client = imap(env.server)
    try:
        if not client.folder_exists(folder):
            return {}
        client.select_folder(folder, readonly=True)
        data = client.fetch(client.search(["ALL"]), ["FLAGS", "BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)]"])
    finally:
        client.logout()
    out = {}
    for item in data.values():
        header = item[b"BODY[HEADER.FIELDS (MESSAGE-ID)]"].decode().split(":", 1)[1].strip().strip("<>")
        out[header] = set(item[b"FLAGS"])
    return out


def test_keyword_set_twice_is_set_once_and_can_be_removed(imap_env: ImapEnv) -> None:
    mid = stored(imap_env)
    assert act(imap_env, mid, "imap_keyword", "project progress") == ActionStatus.DONE
    assert act(imap_env, mid, "imap_keyword", "project progress") == ActionStatus.DONE
    flags = mailbox(imap_env, "INBOX")["t-1@example.com"]
    assert b"project_progress" in flags and b"\\Seen" not in flags
    assert act(imap_env, mid, "imap_keyword", "project progress", desired="absent") == ActionStatus.DONE
    assert b"project_progress" not in mailbox(imap_env, "INBOX")["t-1@example.com"]


def test_flagged_set_and_removed(imap_env: ImapEnv) -> None:
    mid = stored(imap_env)
    assert act(imap_env, mid, "imap_flag", "\\Flagged") == ActionStatus.DONE
    assert b"\\Flagged" in mailbox(imap_env, "INBOX")["t-1@example.com"]
    assert act(imap_env, mid, "imap_flag", "\\Flagged", desired="absent") == ActionStatus.DONE
    assert b"\\Flagged" not in mailbox(imap_env, "INBOX")["t-1@example.com"]


@pytest.mark.parametrize("has_move", [True, False])
def test_move_creates_the_folder_records_the_new_uid_and_is_idempotent(
    imap_env: ImapEnv, monkeypatch: pytest.MonkeyPatch, has_move: bool
) -> None:
    if not has_move:
        from imapclient import IMAPClient

        original = IMAPClient.has_capability
        monkeypatch.setattr(IMAPClient, "has_capability", lambda self, c: c != "MOVE" and original(self, c))
    target = "Archiv/Überfällig"  # non-ASCII: modified UTF-7 on the wire
    mid = stored(imap_env)
    stored(imap_env, 2)
    assert act(imap_env, mid, "imap_move", target) == ActionStatus.DONE
    assert act(imap_env, mid, "imap_move", target) == ActionStatus.DONE
    assert set(mailbox(imap_env, "INBOX")) == {"t-2@example.com"}
    assert set(mailbox(imap_env, target)) == {"t-1@example.com"}
    with session_factory(imap_env.db_url)() as db:
        row = db.get(Message, mid)
        assert row is not None and row.folder == target and row.uid == 1
    # a keyword after the move finds the mail at its new place
    assert act(imap_env, mid, "imap_keyword", "urgent") == ActionStatus.DONE
    assert b"urgent" in mailbox(imap_env, target)["t-1@example.com"]
    # polling the target folder recognises the moved mail: no second row, no second decision
    poll(imap_env, target)
    with session_factory(imap_env.db_url)() as db:
        assert db.scalar(select(func.count(Message.id))) == 2


def test_keyword_after_an_unrecorded_move_finds_the_mail_by_message_id(imap_env: ImapEnv) -> None:
    mid = stored(imap_env)
    client = imap(imap_env.server)
    client.create_folder("Elsewhere")
    client.select_folder("INBOX")
    client.move(client.search(["ALL"]), "Elsewhere")
    client.logout()
    assert act(imap_env, mid, "imap_move", "Elsewhere") == ActionStatus.DONE  # already there: recorded
    assert act(imap_env, mid, "imap_flag", "Flagged") == ActionStatus.DONE
    assert b"\\Flagged" in mailbox(imap_env, "Elsewhere")["t-1@example.com"]


def test_move_undo_and_gmail_labels_on_dovecot_are_skipped(imap_env: ImapEnv) -> None:
    mid = stored(imap_env)
    assert act(imap_env, mid, "imap_move", "Archive", desired="absent") == ActionStatus.SKIPPED
    assert act(imap_env, mid, "gmail_label", "Work") == ActionStatus.SKIPPED  # no X-GM-EXT-1


def test_mail_from_a_local_file_is_not_applicable(imap_env: ImapEnv) -> None:
    with session_scope(imap_env.db_url) as db:
        mid = store_message(db, make_mail(9), Origin("local", "inbox.mbox")).id
    assert act(imap_env, mid, "imap_keyword", "urgent") == ActionStatus.SKIPPED


def test_deleted_mail_is_skipped_not_retried_forever(imap_env: ImapEnv) -> None:
    mid = stored(imap_env)
    client = imap(imap_env.server)
    client.select_folder("INBOX")
    client.delete_messages(client.search(["ALL"]))
    client.expunge()
    client.logout()
    assert act(imap_env, mid, "imap_keyword", "urgent") == ActionStatus.SKIPPED
