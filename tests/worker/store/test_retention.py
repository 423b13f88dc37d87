"""Retention (`mailroute prune`): only finished mail past the age goes, in batches; SQLite and Postgres."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import typer
from sqlalchemy import func, select
from typer.testing import CliRunner

from tests.builders import MessageBuilder
from worker.db.models import (
    Action,
    ActionAttempt,
    ActionStatus,
    Decision,
    MailVector,
    Message,
    MessageStatus,
    Score,
)
from worker.db.session import session_factory
from worker.store.messages import Origin, store_message
from worker.store.retention import header_block, prune

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
BODY = "The quarterly numbers are attached. " * 200


def add_mail(
    url: str,
    n: int,
    *,
    age_days: float,
    status: str = MessageStatus.DECIDED,
    review_state: str = "none",
    action_status: str = ActionStatus.DONE,
) -> int:
    """One stored mail with a decision, a score and a webhook action with one attempt; returns its id."""
    raw = MessageBuilder().subject(f"Report {n}").message_id(f"r{n}@example.com").text(BODY).build()
    with session_factory(url).begin() as session:
        stored = store_message(session, raw, Origin("acct", "INBOX", uidvalidity=1, uid=n))
        message = session.get(Message, stored.id)
        assert message is not None
        message.status = status
        message.received_at = NOW - timedelta(days=age_days)
        message.body_text = message.clean_text = BODY
        if status == MessageStatus.DECIDED:
            session.add(
                Decision(
                    message_id=message.id,
                    rule_set_name="r",
                    rule_set_hash="h",
                    model_id="m",
                    labels=["finance"],
                    needs_review=review_state != "none",
                    review_state=review_state,
                )
            )
            session.add(
                Score(
                    message_id=message.id,
                    label="finance",
                    score=0.9,
                    model_id="m",
                    rule_set_hash="h",
                    template_hash="t",
                )
            )
            action = Action(message_id=message.id, kind="webhook", target="ticketing", status=action_status)
            session.add(action)
            session.flush()
            session.add(ActionAttempt(action_id=action.id, number=1, outcome="ok"))
            session.add(
                MailVector(
                    message_id=message.id, rule_set_name="r", columns="c", vector=b"\0" * 8, probs=b"\0" * 8
                )
            )
        return message.id


def rows(url: str, model: type) -> int:
    with session_factory(url)() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def message(url: str, id_: int) -> Message | None:
    with session_factory(url)() as session:
        return session.get(Message, id_)


@pytest.fixture
def mails(db_url: str) -> dict[str, int]:
    """Two prunable mails and one of each kind that must be kept."""
    return {
        "old1": add_mail(db_url, 1, age_days=40),
        "old2": add_mail(db_url, 2, age_days=35),
        "recent": add_mail(db_url, 3, age_days=5),
        "in_review": add_mail(db_url, 4, age_days=40, review_state="pending"),
        "action_failed": add_mail(db_url, 5, age_days=40, action_status=ActionStatus.FAILED),
        "action_pending": add_mail(db_url, 6, age_days=40, action_status=ActionStatus.PENDING),
        "undecided": add_mail(db_url, 7, age_days=40, status=MessageStatus.FAILED),
    }


def test_whole_rows_of_finished_old_mail_are_deleted_with_everything_hanging_off_them(
    db_url: str, mails: dict[str, int]
) -> None:
    result = prune(session_factory(db_url), older_than_days=30, batch_size=1, now=NOW)
    assert result.messages == 2 and not result.dry_run and result.bytes_freed >= 2 * len(BODY)
    kept = {name for name, id_ in mails.items() if message(db_url, id_) is not None}
    assert kept == set(mails) - {"old1", "old2"}
    # ON DELETE CASCADE: the 6 decided mails had a decision, score, action and attempt each; 4 remain
    assert (rows(db_url, Message), rows(db_url, Decision), rows(db_url, Score)) == (5, 4, 4)
    assert (rows(db_url, Action), rows(db_url, ActionAttempt), rows(db_url, MailVector)) == (4, 4, 4)


def test_keep_decisions_cuts_raw_to_headers_and_is_idempotent(db_url: str, mails: dict[str, int]) -> None:
    sessions = session_factory(db_url)
    first = prune(sessions, older_than_days=30, keep_decisions=True, now=NOW)
    assert first.messages == 2 and first.bytes_freed >= 2 * len(BODY)
    for name in ("old1", "old2"):
        row = message(db_url, mails[name])
        assert row is not None and row.truncated and row.body_text is None and row.clean_text is None
        assert row.raw.endswith(b"\r\n\r\n") and b"Subject: Report" in row.raw and b"quarterly" not in row.raw
        assert row.message_id_hash and row.dedup_key and row.content_hash  # the dedup ledger stays
    recent = message(db_url, mails["recent"])
    assert recent is not None and b"quarterly" in recent.raw and not recent.truncated
    assert rows(db_url, Decision) == 6 and rows(db_url, Action) == 6
    assert rows(db_url, MailVector) == 4  # an embedding is derived from the body: it goes with it
    assert prune(sessions, older_than_days=30, keep_decisions=True, now=NOW).messages == 0


def test_dry_run_counts_and_changes_nothing(db_url: str, mails: dict[str, int]) -> None:
    result = prune(session_factory(db_url), older_than_days=30, dry_run=True, now=NOW)
    assert result.dry_run and result.messages == 2 and result.bytes_freed >= 2 * len(BODY)
    assert rows(db_url, Message) == len(mails)
    assert result.cutoff == NOW - timedelta(days=30)


def test_many_batches_walk_every_candidate_once(sqlite_url: str) -> None:
    ids = [add_mail(sqlite_url, n, age_days=40) for n in range(25)]
    result = prune(
        session_factory(sqlite_url), older_than_days=30, keep_decisions=True, batch_size=4, now=NOW
    )
    assert result.messages == 25
    assert all((row := message(sqlite_url, id_)) is not None and row.truncated for id_ in ids)


def test_cli_prune_parses_prints_and_prunes(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from worker.cli import prune as prune_cli
    from worker.core.settings import get_settings

    app = typer.Typer()
    prune_cli.register(app)
    app.command("noop")(lambda: None)  # two commands, so "prune" stays a sub-command name
    add_mail(sqlite_url, 1, age_days=400)
    monkeypatch.setenv("MAILROUTE_DATABASE_URL", sqlite_url)
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        dry = runner.invoke(app, ["prune", "--older-than", "365", "--dry-run"])
        assert dry.exit_code == 0, dry.output
        assert "would prune the whole rows of 1 decided mail(s)" in dry.output
        done = runner.invoke(app, ["prune", "--older-than", "365", "--keep-decisions", "--batch-size", "10"])
        assert done.exit_code == 0 and "pruned the bodies of 1 decided mail(s)" in done.output
        assert runner.invoke(app, ["prune", "--older-than", "-1"]).exit_code == 2  # out of range
        assert runner.invoke(app, ["prune"]).exit_code == 2  # --older-than is required
    finally:
        get_settings.cache_clear()


def test_header_block() -> None:
    assert header_block(b"Subject: a\r\nFrom: b\r\n\r\nbody") == b"Subject: a\r\nFrom: b\r\n\r\n"
    assert header_block(b"Subject: a\n\nbody\n\nmore") == b"Subject: a\n\n"
    assert header_block(b"Subject: only headers") == b"Subject: only headers"
