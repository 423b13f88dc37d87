"""The message page offers to re-route the replies that followed a thread, and does it."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.admin.builders import MailSpec, add_mail
from tests.admin.conftest import csrf_of
from tests.worker.review.test_threads import followed


def test_the_message_page_offers_to_reroute_the_replies(app: FastAPI, client: TestClient) -> None:
    with app.state.session_factory.begin() as session:
        first = add_mail(session, MailSpec(needs_review=False, labels=("urgent matters",)))
        reply = followed(session, first)
    page = client.get(f"/messages/{first}").text
    assert 'name="reroute_replies"' in page and f'href="/messages/{reply}"' in page
    assert 'name="reroute_replies"' not in client.get(f"/messages/{reply}").text
    form = {
        "csrf_token": csrf_of(page),
        "decision": "correct",
        "labels": ["meeting notice"],
        "reroute_replies": "1",
    }
    assert client.post(f"/messages/{first}/review", data=form, follow_redirects=False).status_code == 303
    api = client.get(f"/api/messages/{reply}").json()
    assert api["decision"]["labels"] == ["meeting notice"] and api["reviewed_by"] == "admin"
