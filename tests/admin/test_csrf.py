"""Every form and every write needs this session's CSRF token."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.admin.builders import add_mail
from tests.admin.conftest import csrf_of, login
from tests.admin.routes import endpoints
from worker.db.models import Decision


def test_every_form_on_every_page_carries_a_token(client: TestClient, app: FastAPI) -> None:
    with app.state.session_factory.begin() as session:
        mid = add_mail(session)
    for path in ("/review", f"/messages/{mid}", "/decisions", "/dashboard", "/playground"):
        html = client.get(path).text
        posts = html.count('method="post"')
        assert posts >= 1 and html.count('name="csrf_token"') == posts, path


def test_every_unsafe_page_route_refuses_a_post_without_token(client: TestClient, app: FastAPI) -> None:
    posts = [e.path for e in endpoints(app) if "POST" in e.methods and not e.path.startswith("/api")]
    assert len(posts) >= 4, posts  # login, logout, review, redeliver, playground
    for route_path in posts:
        path = route_path.replace("{message_id}", "1").replace("{action_id}", "1")
        response = client.post(path, data={"decision": "approve"}, follow_redirects=False)
        assert response.status_code == 403, path


def test_review_without_token_changes_nothing(client: TestClient, app: FastAPI) -> None:
    with app.state.session_factory.begin() as session:
        mid = add_mail(session)
    response = client.post(f"/messages/{mid}/review", data={"decision": "approve"}, follow_redirects=False)
    assert response.status_code == 403
    forged = client.post(f"/messages/{mid}/review", data={"decision": "approve", "csrf_token": "0" * 64})
    assert forged.status_code == 403
    with app.state.session_factory() as session:
        assert session.scalar(select(Decision.review_state)) == "pending"


def test_token_of_another_session_is_refused(app: FastAPI) -> None:
    with app.state.session_factory.begin() as session:
        mid = add_mail(session)
    with (
        TestClient(app, base_url="https://testserver") as a,
        TestClient(app, base_url="https://testserver") as b,
    ):
        login(a), login(b)
        token_a = csrf_of(a.get("/review").text)
        response = b.post(f"/messages/{mid}/review", data={"decision": "approve", "csrf_token": token_a})
        assert response.status_code == 403


def test_login_form_needs_its_token(anon: TestClient) -> None:
    response = anon.post("/login", data={"username": "admin", "password": "x"})
    assert response.status_code == 403


def test_api_write_with_session_needs_the_header(client: TestClient, app: FastAPI) -> None:
    with app.state.session_factory.begin() as session:
        mid = add_mail(session)
    assert client.post(f"/api/messages/{mid}/review", json={"decision": "approve"}).status_code == 403
    token = csrf_of(client.get("/review").text)
    ok = client.post(
        f"/api/messages/{mid}/review", json={"decision": "approve"}, headers={"X-CSRF-Token": token}
    )
    assert ok.status_code == 200 and ok.json()["review_state"] == "approved"
