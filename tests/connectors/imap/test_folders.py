"""Moves on a server whose personal folders live under ``INBOX.`` with ``.`` as delimiter (Cyrus, Courier)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from connectors.imap.folders import server_folder
from tests.connectors.conftest import ImapEnv, imap
from tests.connectors.imap.test_actions import act, mailbox, poll, stored
from worker.db.models import ActionStatus, Message
from worker.db.session import session_factory


class FakeFolders:
    """Just enough of a connection for resolving names: NAMESPACE and LIST."""

    def __init__(self, prefix: str, separator: str, existing: set[str]) -> None:
        self.prefix, self.separator, self.existing = prefix, separator, existing

    def has_capability(self, name: str) -> bool:
        return name == "NAMESPACE"

    def namespace(self):  # type: ignore[no-untyped-def]
        from imapclient.imapclient import Namespace

        return Namespace(((self.prefix, self.separator),), None, None)

    def folder_exists(self, name: str) -> bool:
        return name in self.existing


@pytest.mark.parametrize(
    ("prefix", "separator", "name", "expected"),
    [
        ("", "/", "Archive/2024", "Archive/2024"),
        ("INBOX.", ".", "Archive/2024", "INBOX.Archive.2024"),
        ("INBOX.", ".", "INBOX/Sub", "INBOX.Sub"),
        ("INBOX.", ".", "INBOX.Archive", "INBOX.Archive"),
        ("INBOX.", ".", "inbox", "INBOX"),
        ("INBOX.", ".", "Shared", "Shared"),  # exists as written: used as is
    ],
)
def test_rule_folder_names_map_to_the_servers_namespace(
    prefix: str, separator: str, name: str, expected: str
) -> None:
    client = FakeFolders(prefix, separator, existing={"Shared"})
    assert server_folder(client, name) == expected  # type: ignore[arg-type]


@pytest.mark.integration
def test_move_on_a_dotted_namespace_creates_the_folder_under_the_prefix(dotted_env: ImapEnv) -> None:
    mid = stored(dotted_env)
    assert act(dotted_env, mid, "imap_move", "Archive/2024") == ActionStatus.DONE
    assert act(dotted_env, mid, "imap_move", "Archive/2024") == ActionStatus.DONE  # twice = once
    assert set(mailbox(dotted_env, "INBOX.Archive.2024")) == {"t-1@example.com"}
    assert mailbox(dotted_env, "INBOX") == {}
    with session_factory(dotted_env.db_url)() as db:
        row = db.get(Message, mid)
        assert row is not None and row.folder == "INBOX.Archive.2024" and row.uid == 1
    assert act(dotted_env, mid, "imap_keyword", "urgent") == ActionStatus.DONE
    assert b"urgent" in mailbox(dotted_env, "INBOX.Archive.2024")["t-1@example.com"]
    client = imap(dotted_env.server)
    try:
        assert not client.folder_exists("Archive")  # nothing outside the personal namespace
    finally:
        client.logout()
    poll(dotted_env, "INBOX.Archive.2024")  # the moved mail is recognised, not stored again
    with session_factory(dotted_env.db_url)() as db:
        assert len(db.scalars(select(Message.id)).all()) == 1
