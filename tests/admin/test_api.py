"""The JSON API and its OpenAPI document."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.admin.builders import MailSpec, add_mail, office_rules
from tests.admin.conftest import Enqueued

AUTH = {"Authorization": "Bearer test-api-token"}


def test_review_queue_message_and_correction(anon: TestClient, app: FastAPI, enqueued: Enqueued) -> None:
    with app.state.session_factory.begin() as session:
        mid = add_mail(session, MailSpec())
        add_mail(session, MailSpec(subject="done", needs_review=False))
    queue = anon.get("/api/review", headers=AUTH).json()
    assert queue["total"] == 1 and queue["items"][0]["id"] == mid
    message = anon.get(f"/api/messages/{mid}", headers=AUTH).json()
    rules = office_rules()
    limit = rules.policy.threshold_for(rules.category("project progress").threshold)
    assert message["scores"][0] == {"label": "project progress", "score": 0.62, "threshold": limit}
    assert message["decision"]["review_state"] == "pending" and message["actions"] == []
    result = anon.post(
        f"/api/messages/{mid}/review",
        headers=AUTH,
        json={"decision": "correct", "labels": ["meeting notice"]},
    ).json()
    assert result["review_state"] == "corrected" and result["labels"] == ["meeting notice"]
    assert enqueued.ids == result["queued_actions"] and len(result["queued_actions"]) == 1
    assert anon.get("/api/review", headers=AUTH).json()["total"] == 0
    reviews = anon.get(f"/api/messages/{mid}", headers=AUTH).json()["reviews"]
    assert reviews[0]["reviewer"] == "api-token" and reviews[0]["old_labels"] == ["project progress"]
    bad = anon.post(
        f"/api/messages/{mid}/review", headers=AUTH, json={"decision": "correct", "labels": ["x"]}
    )
    assert bad.status_code == 400
    assert anon.get("/api/messages/12345", headers=AUTH).status_code == 404


def test_decide_stats_and_filters_notes(anon: TestClient, app: FastAPI) -> None:
    ranked = anon.post(
        "/api/decide", headers=AUTH, json={"subject": "hi", "text": "x", "labels": ["a: one", "b: two"]}
    )
    body = ranked.json()
    assert [r["label"] for r in body["ranked"]] in (["a", "b"], ["b", "a"]) and body["decision"] is None
    live = anon.post("/api/decide", headers=AUTH, json={"subject": "hi", "text": "x"}).json()
    assert len(live["ranked"]) == 5 and live["decision"] is not None
    with app.state.session_factory.begin() as session:
        add_mail(session, MailSpec())
    stats = anon.get("/api/stats?days=7", headers=AUTH).json()
    assert stats["totals"]["review_pending"] == 1 and len(stats["days"]) == 7 and stats["review_rate"] == 1.0
    notes = anon.get("/api/review?since=yesterday", headers=AUTH).json()["notes"]
    assert notes and "since" in notes[0]


def test_openapi_document_lists_the_api(anon: TestClient) -> None:
    doc = anon.get("/api/openapi.json", headers=AUTH).json()
    assert doc["openapi"].startswith("3.")
    assert {
        "/api/review",
        "/api/decisions",
        "/api/messages/{message_id}",
        "/api/messages/{message_id}/review",
        "/api/decide",
        "/api/stats",
    } <= set(doc["paths"])
    assert not any(path.startswith(("/review", "/login")) for path in doc["paths"])
