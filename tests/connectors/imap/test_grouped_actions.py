"""A batch of mailbox actions is one UID STORE / UID MOVE per (folder, kind, target), and still right.

The spy counts the UID commands imaplib sends; the mailbox is read back to check every effect, and
every row keeps its own outcome and ActionAttempt.
"""

from __future__ import annotations

import imaplib
from collections import Counter
from collections.abc import Iterator

import pytest
from sqlalchemy import func, select

from tests.connectors.conftest import ImapEnv, append, imap, make_mail
from tests.connectors.imap.test_actions import mailbox, poll
from worker.db.models import Action, ActionAttempt, ActionStatus, Message
from worker.db.session import session_factory, session_scope
from worker.outbox.runner import run_actions

pytestmark = pytest.mark.integration


@pytest.fixture
def uid_commands(monkeypatch: pytest.MonkeyPatch) -> Iterator[Counter[str]]:
    """UID command name → how many were sent (UID STORE, UID MOVE, UID SEARCH, UID FETCH …)."""
    counts: Counter[str] = Counter()
    original = imaplib.IMAP4.uid

    def spy(self: imaplib.IMAP4, command: str, *args: object):  # type: ignore[no-untyped-def]
        counts[command.upper()] += 1
        return original(self, command, *args)

    monkeypatch.setattr(imaplib.IMAP4, "uid", spy)
    yield counts


def rows(env: ImapEnv, n: int) -> dict[str, int]:
    append(env.server, [make_mail(i) for i in range(n)])
    poll(env)
    with session_factory(env.db_url)() as db:
        return {str(mid): id_ for mid, id_ in db.execute(select(Message.message_id, Message.id))}


def queue(env: ImapEnv, specs: list[tuple[int, str, str]]) -> list[int]:
    with session_scope(env.db_url) as db:
        actions = [Action(message_id=m, kind=k, target=t, desired="present") for m, k, t in specs]
        db.add_all(actions)
        db.flush()
        return [a.id for a in actions]


def test_a_batch_is_one_store_per_flag_and_one_move_per_target(
    imap_env: ImapEnv, uid_commands: Counter[str]
) -> None:
    ids = rows(imap_env, 30)
    mails = [ids[f"t-{i}@example.com"] for i in range(30)]
    specs = [(m, "imap_keyword", "project progress") for m in mails[:20]]
    specs += [(m, "imap_flag", "\\Flagged") for m in mails[:10]]
    specs += [(m, "imap_move", "Archive") for m in mails[20:]]
    action_ids = queue(imap_env, specs)
    uid_commands.clear()
    with session_scope(imap_env.db_url) as db:
        statuses = run_actions(db, action_ids)
    assert set(statuses.values()) == {ActionStatus.DONE} and len(statuses) == 40
    assert uid_commands["STORE"] == 2, uid_commands  # one per (folder, flag), not one per mail
    assert uid_commands["MOVE"] == 1, uid_commands
    assert uid_commands["SEARCH"] <= 1, "moved mails are found in the target with one SEARCH"
    inbox, archive = mailbox(imap_env, "INBOX"), mailbox(imap_env, "Archive")
    assert len(inbox) == 20 and len(archive) == 10
    for i in range(20):
        flags = inbox[f"t-{i}@example.com"]
        assert b"project_progress" in flags and (b"\\Flagged" in flags) == (i < 10)
    with session_factory(imap_env.db_url)() as db:
        assert db.scalar(select(func.count(ActionAttempt.id))) == 40  # one attempt per row
        moved = db.scalars(select(Message).where(Message.id.in_(mails[20:]))).all()
        assert {m.folder for m in moved} == {"Archive"} and sorted(m.uid for m in moved) == list(range(1, 11))
    # again: nothing to do twice, and the mails that moved are located with one SEARCH for the batch
    with session_scope(imap_env.db_url) as db:
        for action in db.scalars(select(Action)):
            action.status = ActionStatus.PENDING
    uid_commands.clear()
    with session_scope(imap_env.db_url) as db:
        assert set(run_actions(db, action_ids).values()) == {ActionStatus.DONE}
    assert uid_commands["MOVE"] == 0 and uid_commands["STORE"] == 2
    assert len(mailbox(imap_env, "Archive")) == 10


def test_moved_by_hand_mails_are_located_for_the_batch_with_one_search(
    imap_env: ImapEnv, uid_commands: Counter[str]
) -> None:
    ids = rows(imap_env, 12)
    client = imap(imap_env.server)
    client.create_folder("Elsewhere")
    client.select_folder("INBOX")
    client.move(client.search(["ALL"]), "Elsewhere")  # the rows' UIDs are now wrong
    client.logout()
    action_ids = queue(imap_env, [(ids[f"t-{i}@example.com"], "imap_move", "Elsewhere") for i in range(12)])
    uid_commands.clear()
    with session_scope(imap_env.db_url) as db:
        assert set(run_actions(db, action_ids).values()) == {ActionStatus.DONE}
    assert uid_commands["SEARCH"] <= 2, uid_commands  # the stored folder, then the target: not 12
    action_ids = queue(imap_env, [(ids[f"t-{i}@example.com"], "imap_keyword", "seen-it") for i in range(12)])
    with session_scope(imap_env.db_url) as db:
        assert set(run_actions(db, action_ids).values()) == {ActionStatus.DONE}
    assert all(b"seen-it" in flags for flags in mailbox(imap_env, "Elsewhere").values())


def test_two_mails_sharing_a_message_id_each_get_their_own_action(imap_env: ImapEnv) -> None:
    append(imap_env.server, [make_mail(1, body="first mail"), make_mail(1, body="second, other mail")])
    poll(imap_env)
    with session_factory(imap_env.db_url)() as db:
        first, second = sorted(db.scalars(select(Message.id)))
    client = imap(imap_env.server)
    client.create_folder("Moved")
    client.select_folder("INBOX")
    client.move(client.search(["ALL"]), "Moved")  # both UIDs change: found again by Message-ID
    client.logout()
    action_ids = queue(imap_env, [(second, "imap_move", "Moved"), (second, "imap_flag", "\\Flagged")])
    with session_scope(imap_env.db_url) as db:
        assert set(run_actions(db, action_ids).values()) == {ActionStatus.DONE}
    reader = imap(imap_env.server)
    reader.select_folder("Moved", readonly=True)
    data = reader.fetch(reader.search(["ALL"]), ["FLAGS", "BODY.PEEK[]"])
    reader.logout()
    flagged = {b"second" in item[b"BODY[]"]: b"\\Flagged" in item[b"FLAGS"] for item in data.values()}
    assert flagged == {True: True, False: False}, "only the mail that was decided is flagged"
    with session_factory(imap_env.db_url)() as db:
        assert db.get(Message, first).uid == 1 and db.get(Message, second).uid == 2  # type: ignore[union-attr]
