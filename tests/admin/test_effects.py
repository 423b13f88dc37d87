"""admin/effects.py and the message page: each action's effect, and whether it was undone."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from admin.effects import describe
from tests.admin.builders import MailSpec, add_mail
from worker.db.models import Action, ActionStatus


def action(
    kind: str, target: str, *, desired: str = "present", status: str = ActionStatus.DONE, **params: str
) -> Action:
    return Action(kind=kind, target=target, desired=desired, status=status, params=params)


def test_effects_in_words() -> None:
    assert describe(action("imap_move", "Alerts", moved_from="INBOX")).text == "moved from INBOX to Alerts"
    back = describe(action("imap_move", "Alerts", desired="absent", moved_from="INBOX"))
    assert back.text == "moved back to INBOX" and back.undone
    assert describe(action("imap_keyword", "urgent")).text == "keyword urgent set"
    assert describe(action("webhook", "crm", desired="absent")).text == "told crm of the correction"
    never = describe(action("imap_flag", "\\Flagged", desired="absent", status=ActionStatus.SKIPPED))
    assert never.text == "not applied (cancelled before it ran)" and not never.undone
    assert describe(action("imap_move", "X", status=ActionStatus.PENDING)).text == "pending: to do"


def test_the_message_page_and_api_show_effects_and_undone(app: FastAPI, client: TestClient) -> None:
    with app.state.session_factory.begin() as session:
        mid = add_mail(session, MailSpec(needs_review=False, labels=("system alert",)))
        for row in session.scalars(select(Action).where(Action.message_id == mid)):
            if row.kind == "imap_move":
                row.desired, row.params = "absent", {"moved_from": "INBOX"}
    page = client.get(f"/messages/{mid}").text
    assert 'data-kind="imap_move" data-target="Alerts" data-undone="yes"' in page
    assert "moved back to INBOX" in page
    api = client.get(f"/api/messages/{mid}").json()["actions"]
    assert {a["kind"]: a["undone"] for a in api} == {"imap_keyword": False, "imap_move": True}


def test_the_dashboard_shows_an_over_queue(app: FastAPI, client: TestClient) -> None:
    from datetime import UTC, datetime, timedelta

    with app.state.session_factory.begin() as session:
        add_mail(session, MailSpec(received_at=datetime.now(UTC) - timedelta(hours=9)))
    page = client.get("/dashboard").text
    assert 'data-profile="default" data-over="yes"' in page and "oldest waiting 9.0 h" in page
