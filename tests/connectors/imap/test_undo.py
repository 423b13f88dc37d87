"""On a real Dovecot: a correction that removes a label undoes its move — the mail goes back home."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from connectors.imap.actions import MOVED_FROM
from rules import load_rule_set
from tests.conftest import REPO
from tests.connectors.conftest import ImapEnv, imap
from tests.connectors.imap.test_actions import act, mailbox, stored
from worker.db.models import Action, ActionStatus, Decision
from worker.db.session import session_scope
from worker.outbox.runner import run_action
from worker.review import corrections as review

pytestmark = pytest.mark.integration
OFFICE = load_rule_set(REPO / "rules" / "examples" / "office.yaml")


def decide(env: ImapEnv, message_id: int, labels: list[str]) -> list[int]:
    with session_scope(env.db_url) as db:
        db.add(
            Decision(
                message_id=message_id, rule_set_name="office", rule_set_hash="h", model_id="m", labels=labels
            )
        )
        return review.sync_actions(db, message_id, labels, OFFICE)


def run(env: ImapEnv, ids: list[int]) -> dict[str, str]:
    statuses = {}
    for action_id in ids:
        with session_scope(env.db_url) as db:
            status = run_action(db, action_id)
            action = db.get(Action, action_id)
            assert action is not None
            statuses[f"{action.kind}:{action.target}:{action.desired}"] = status
    return statuses


def test_a_correction_that_removes_a_move_puts_the_mail_back(imap_env: ImapEnv) -> None:
    mid = stored(imap_env)
    first = run(imap_env, decide(imap_env, mid, ["system alert"]))
    assert set(first.values()) == {ActionStatus.DONE}
    assert "t-1@example.com" in mailbox(imap_env, "Alerts") and not mailbox(imap_env, "INBOX")
    with session_scope(imap_env.db_url) as db:
        move = db.scalars(select(Action).where(Action.kind == "imap_move")).one()
        assert move.params[MOVED_FROM] == "INBOX"
        ids = review.correct(db, mid, ["urgent matters"], "rita", rule_set=OFFICE)
    undone = run(imap_env, ids)
    assert undone["imap_move:Alerts:absent"] == ActionStatus.DONE
    assert undone["imap_keyword:system-alert:absent"] == ActionStatus.DONE
    flags = mailbox(imap_env, "INBOX")["t-1@example.com"]
    assert not mailbox(imap_env, "Alerts")
    assert b"urgent" in flags and b"system-alert" not in flags
    # a retry of the undo changes nothing
    assert act(imap_env, mid, "imap_move", "Alerts", desired="absent") == ActionStatus.DONE
    assert set(mailbox(imap_env, "INBOX")) == {"t-1@example.com"}


def test_an_undo_leaves_a_mail_moved_elsewhere_by_hand(imap_env: ImapEnv) -> None:
    mid = stored(imap_env)
    run(imap_env, decide(imap_env, mid, ["system alert"]))
    client = imap(imap_env.server)
    client.create_folder("Kept")
    client.select_folder("Alerts")
    client.move(client.search(["ALL"]), "Kept")
    client.logout()
    assert act(imap_env, mid, "imap_move", "Alerts", desired="absent") == ActionStatus.SKIPPED
    assert set(mailbox(imap_env, "Kept")) == {"t-1@example.com"} and not mailbox(imap_env, "INBOX")
