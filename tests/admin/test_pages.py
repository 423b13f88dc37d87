"""Pages: review flow, XSS-safe rendering, filters fed hostile strings, CSV export, dashboard, playground."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.admin.builders import XSS_TEXT, MailSpec, add_mail, office_rules
from tests.admin.conftest import Enqueued, csrf_of
from worker.db.models import Action, Correction, Decision

HOSTILE = [
    "' OR 1=1 --",
    '"; DROP TABLE messages; --',
    "%",
    "_",
    "\\",
    "') UNION SELECT * FROM messages --",
    "<script>alert(1)</script>",
    "1; SELECT pg_sleep(5)",
    "\x00",
    "ü" * 300,
]


def seed(app: FastAPI, *specs: MailSpec) -> list[int]:
    with app.state.session_factory.begin() as session:
        return [add_mail(session, spec) for spec in specs]


def test_mail_with_script_and_onerror_shows_as_text(client: TestClient, app: FastAPI) -> None:
    (mid,) = seed(
        app,
        MailSpec(
            subject="<img src=x onerror=alert(1)>",
            text=XSS_TEXT,
            sender="<script>alert(1)</script> <evil@example.com>",
        ),
    )
    for path in (f"/messages/{mid}", "/review", "/decisions"):
        html = client.get(path).text
        assert "<script>alert(1)</script>" not in html and "<img src=x onerror" not in html, path
        assert "&lt;img src=x onerror=alert(1)&gt;" in html, path
    html = client.get(f"/messages/{mid}").text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    csp = client.get(f"/messages/{mid}").headers["content-security-policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp


def test_review_queue_orders_and_filters(client: TestClient, app: FastAPI) -> None:
    now = datetime.now(UTC)
    seed(
        app,
        MailSpec(
            subject="old and sure", received_at=now - timedelta(days=3), scores={"project progress": 0.58}
        ),
        MailSpec(
            subject="new and unsure",
            received_at=now - timedelta(hours=1),
            account="home",
            scores={"meeting notice": 0.5, "urgent matters": 0.49},
            labels=("meeting notice",),
        ),
        MailSpec(
            subject="decided already",
            needs_review=False,
            scores={"system alert": 0.9},
            labels=("system alert",),
        ),
    )
    html = client.get("/review").text
    assert html.index("old and sure") < html.index("new and unsure") and "decided already" not in html
    html = client.get("/review?sort=uncertain").text
    assert html.index("new and unsure") < html.index("old and sure")
    assert "old and sure" not in client.get("/review?account=home").text
    assert "new and unsure" not in client.get("/review?category=project+progress").text
    since = (now - timedelta(days=1)).date().isoformat()
    assert "old and sure" not in client.get(f"/review?since={since}").text
    assert "new and unsure" not in client.get(f"/review?until={(now - timedelta(days=2)).date()}").text


@pytest.mark.parametrize("path", ["/review", "/decisions", "/decisions.csv", "/api/review", "/api/decisions"])
def test_hostile_filter_values_return_normally(client: TestClient, app: FastAPI, path: str) -> None:
    seed(app, MailSpec())
    for value in HOSTILE:
        for name in ("account", "category", "q", "since", "until", "state", "sort", "page"):
            response = client.get(path, params={name: value})
            expected = 400 if "\x00" in value else 200  # no query can hold a NUL: refused up front
            assert response.status_code == expected, (path, name, value, response.text[:200])
    assert "Quarterly numbers" in client.get(path).text  # the table is still there


def test_correct_in_one_click_leaves_the_queue_and_changes_actions(
    client: TestClient, app: FastAPI, enqueued: Enqueued
) -> None:
    (mid,) = seed(app, MailSpec())
    token = csrf_of(client.get(f"/messages/{mid}").text)
    response = client.post(
        f"/messages/{mid}/review",
        data={
            "csrf_token": token,
            "decision": "correct",
            "labels": ["customer inquiry", "urgent matters"],
            "note": "a lead",
        },
        follow_redirects=False,
    )
    assert response.status_code == 303 and response.headers["location"].startswith("/review?notice=corrected")
    assert "Quarterly numbers" not in client.get("/review").text
    with app.state.session_factory() as session:
        decision = session.scalars(select(Decision)).one()
        assert (
            decision.labels == ["customer inquiry", "urgent matters"] and decision.review_state == "corrected"
        )
        correction = session.scalars(select(Correction)).one()
        assert (correction.reviewer, correction.old_labels, correction.note) == (
            "admin",
            ["project progress"],
            "a lead",
        )
        targets = {(a.kind, a.target, a.desired, a.status) for a in session.scalars(select(Action))}
    assert ("webhook", "crm-intake", "present", "pending") in targets
    assert ("imap_keyword", "urgent", "present", "pending") in targets
    assert len(enqueued.ids) == len(targets) == 4
    page = client.get(f"/messages/{mid}").text
    assert "crm-intake" in page and "a lead" in page


def test_approve_queues_the_decided_actions(client: TestClient, app: FastAPI, enqueued: Enqueued) -> None:
    (mid,) = seed(app, MailSpec())
    token = csrf_of(client.get(f"/messages/{mid}").text)
    client.post(f"/messages/{mid}/review", data={"csrf_token": token, "decision": "approve"})
    with app.state.session_factory() as session:
        assert session.scalar(select(Decision.review_state)) == "approved"
        assert [a.target for a in session.scalars(select(Action))] == ["project-progress"]
    assert len(enqueued.ids) == 1


def test_unknown_label_is_a_clear_400(client: TestClient, app: FastAPI) -> None:
    (mid,) = seed(app, MailSpec())
    token = csrf_of(client.get(f"/messages/{mid}").text)
    response = client.post(
        f"/messages/{mid}/review",
        data={"csrf_token": token, "decision": "correct", "labels": ["nope"]},
        headers={"accept": "text/html"},
    )
    assert response.status_code == 400 and "unknown label" in response.text


def test_message_page_shows_scores_thresholds_reasons_actions(client: TestClient, app: FastAPI) -> None:
    (mid,) = seed(
        app,
        MailSpec(
            subject="Checkout down",
            needs_review=False,
            scores={"urgent matters": 0.91},
            labels=("urgent matters",),
            action_status="failed",
        ),
    )
    html = client.get(f"/messages/{mid}").text
    limit = office_rules().policy.threshold_for(office_rules().category("urgent matters").threshold)
    assert "0.91" in html and f"/ {limit:.2f}" in html  # the score and urgent matters' own threshold
    assert "urgent matters scored 0.91" in html and "\\Flagged" in html and "Retry" in html
    assert client.get("/messages/999999", headers={"accept": "text/html"}).status_code == 404


def test_retry_button_requeues_a_failed_action(client: TestClient, app: FastAPI, enqueued: Enqueued) -> None:
    (mid,) = seed(app, MailSpec(needs_review=False, action_status="dead"))
    with app.state.session_factory() as session:
        action_id = session.scalars(select(Action.id)).one()
    token = csrf_of(client.get(f"/messages/{mid}").text)
    response = client.post(
        f"/messages/{mid}/actions/{action_id}/redeliver", data={"csrf_token": token}, follow_redirects=False
    )
    assert response.status_code == 303 and enqueued.ids == [action_id]
    with app.state.session_factory() as session:
        assert session.get(Action, action_id).status == "pending"  # type: ignore[union-attr]


def test_redeliver_button_resends_a_delivered_webhook(
    client: TestClient, app: FastAPI, enqueued: Enqueued
) -> None:
    (mid,) = seed(app, MailSpec(needs_review=False, labels=("customer inquiry",)))
    with app.state.session_factory() as session:
        webhook = session.scalars(select(Action).where(Action.kind == "webhook")).one()
    html = client.get(f"/messages/{mid}").text
    assert "Redeliver" in html and "HTTP 200" in html  # the delivery log
    response = client.post(
        f"/messages/{mid}/actions/{webhook.id}/redeliver",
        data={"csrf_token": csrf_of(html)},
        follow_redirects=False,
    )
    assert response.status_code == 303 and enqueued.ids == [webhook.id]
    with app.state.session_factory() as session:
        again = session.get(Action, webhook.id)
        assert again is not None and (again.status, again.key) == ("pending", webhook.key)


def test_decisions_search_and_csv_export(client: TestClient, app: FastAPI) -> None:
    seed(
        app,
        MailSpec(subject='=HYPERLINK("http://evil")', needs_review=False, labels=("project progress",)),
        MailSpec(subject="Budget review", sender="cfo@example.com"),
    )
    assert "Budget review" in client.get("/decisions?q=budget").text
    assert "Budget review" not in client.get("/decisions?q=nothing-like-it").text
    response = client.get("/decisions.csv")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert len(rows) == 2 and {r["subject"] for r in rows} == {'\'=HYPERLINK("http://evil")', "Budget review"}
    assert [r["subject"] for r in csv.DictReader(io.StringIO(client.get("/decisions.csv?q=cfo").text))] == [
        "Budget review"
    ]


def test_dashboard_and_charts(client: TestClient, app: FastAPI) -> None:
    seed(app, MailSpec(), MailSpec(subject="x", needs_review=False, labels=("system alert",)))
    html = client.get("/dashboard").text
    assert "sent to review" in html and "50%" in html
    for name in ("volume", "review", "labels"):
        response = client.get(f"/dashboard/{name}.png?days=7")
        assert response.status_code == 200 and response.content[:4] == b"\x89PNG"
    assert client.get("/dashboard/nope.png").status_code == 404


def test_playground_ranks_labels(client: TestClient) -> None:
    token = csrf_of(client.get("/playground").text)
    html = client.post(
        "/playground",
        data={
            "csrf_token": token,
            "subject": "Server down",
            "text": XSS_TEXT,
            "labels": "alerts: monitoring alerts\nbilling: invoices",
        },
    ).text
    assert html.count('class="bar"') == 2 and "alerts" in html and "<script>alert(1)" not in html
    html = client.post(
        "/playground", data={"csrf_token": token, "subject": "Server down", "text": "db-02"}
    ).text
    assert html.count('class="bar"') == 5 and "Decision of the live rules" in html
