"""Health and Prometheus metrics, open without login and free of mail content."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.admin.builders import MailSpec, add_mail
from tests.admin.conftest import make_app
from worker.db.models import Action
from worker.db.telemetry import observe_scoring


def test_healthz_reports_database_broker_and_model(anon: TestClient) -> None:
    body = anon.get("/healthz").json()
    assert body["status"] == "ok" and body["checks"]["database"]["ok"]
    assert body["checks"]["broker"]["mode"].startswith("in-process")
    assert body["checks"]["model"] == {"ok": True, "loaded": True, "model_id": "constant"}


def test_healthz_fails_when_the_database_or_broker_is_down(tmp_path) -> None:  # type: ignore[no-untyped-def]
    app = make_app(f"sqlite:///{tmp_path}/missing-dir/x.db", broker_url="redis://127.0.0.1:1/0")
    with TestClient(app) as client:
        response = client.get("/healthz")
    body = response.json()
    assert (
        response.status_code == 503
        and not body["checks"]["database"]["ok"]
        and not body["checks"]["broker"]["ok"]
    )


def test_metrics_count_from_the_database(anon: TestClient, app: FastAPI) -> None:
    with app.state.session_factory.begin() as session:
        add_mail(session, MailSpec(subject="secret subject"))
        add_mail(session, MailSpec(subject="b", needs_review=False, labels=("customer inquiry",)))
        for action in session.scalars(select(Action)):
            action.status = "dead" if action.kind == "webhook" else action.status
    observe_scoring(0.2, mails=4)
    text = anon.get("/metrics").text
    assert "mailroute_database_up 1.0" in text
    assert "mailroute_messages_received_total 2.0" in text
    assert 'mailroute_messages{status="decided"} 2.0' in text
    assert "mailroute_messages_scored_total 2.0" in text
    assert 'mailroute_decisions_total{mode="live"} 2.0' in text
    assert 'mailroute_review_total{state="pending"} 1.0' in text and "mailroute_review_backlog 1.0" in text
    assert 'mailroute_actions{desired="present",kind="webhook",status="dead"} 1.0' in text
    assert 'mailroute_webhook_deliveries_total{outcome="ok"} 1.0' in text
    assert "mailroute_scoring_seconds_bucket" in text and "secret subject" not in text
