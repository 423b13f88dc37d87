"""User text with a NUL character answers 400 on every admin input, on real Postgres (which cannot
store or compare such text: before the check, a search with ``q=%00`` answered 500)."""

from __future__ import annotations

import http.client
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.admin.builders import MailSpec, add_mail
from tests.admin.conftest import PASSWORD, csrf_of, login, make_app, serving

AUTH = {"Authorization": "Bearer test-api-token"}
QUERY_FIELDS = ("q", "account", "category", "state", "sort", "since", "until", "page")
LIST_PAGES = ("/decisions", "/review", "/decisions.csv", "/api/decisions", "/api/review")


@pytest.fixture
def pg_app(postgres_url: str) -> FastAPI:
    return make_app(postgres_url)


@pytest.fixture
def pg_client(pg_app: FastAPI) -> Iterator[TestClient]:
    with TestClient(pg_app, base_url="https://testserver") as c:
        yield login(c)


@pytest.fixture
def mid(pg_app: FastAPI) -> int:
    with pg_app.state.session_factory.begin() as session:
        return add_mail(session, MailSpec(subject="Budget 2026"))


def assert_bad_input(response: object, field: str) -> None:
    status, text = response.status_code, response.text  # type: ignore[attr-defined]
    assert status == 400, (status, text[:300])
    assert "NUL character" in text and repr(field) in text and "\n" not in response.json()["detail"]  # type: ignore[attr-defined]


def test_a_nul_in_any_filter_answers_400(pg_client: TestClient, mid: int) -> None:
    for path in LIST_PAGES:
        for name in QUERY_FIELDS:
            assert_bad_input(pg_client.get(path, params={name: "Bud\x00get"}), name)


def test_a_search_still_works_after_a_refused_one(pg_client: TestClient, mid: int) -> None:
    assert_bad_input(pg_client.get("/decisions?q=%00", headers=AUTH), "q")
    assert_bad_input(pg_client.get("/api/decisions?q=%00", headers=AUTH), "q")
    assert pg_client.get("/api/decisions?q=budget", headers=AUTH).json()["total"] == 1
    assert "Budget 2026" in pg_client.get("/decisions?q=budget").text


def test_a_nul_in_a_parameter_name_or_other_query_answers_400(pg_client: TestClient, mid: int) -> None:
    assert_bad_input(pg_client.get("/decisions?x%00y=1"), "xy")
    assert_bad_input(pg_client.get("/api/stats?days=%00", headers=AUTH), "days")
    assert_bad_input(pg_client.get("/review?notice=%00"), "notice")


def test_a_nul_in_a_review_form_answers_400_and_stores_nothing(pg_client: TestClient, mid: int) -> None:
    token = csrf_of(pg_client.get(f"/messages/{mid}").text)
    for field, value in (("note", "ok\x00"), ("labels", "meeting\x00notice")):
        form = {"decision": "correct", "labels": "meeting notice", "csrf_token": token, field: value}
        assert_bad_input(pg_client.post(f"/messages/{mid}/review", data=form), field)
    assert pg_client.get(f"/api/messages/{mid}", headers=AUTH).json()["reviews"] == []
    good = {"decision": "correct", "labels": "meeting notice", "note": "fine", "csrf_token": token}
    assert pg_client.post(f"/messages/{mid}/review", data=good, follow_redirects=False).status_code == 303


def test_a_nul_in_api_json_answers_400_and_stores_nothing(pg_client: TestClient, mid: int) -> None:
    url = f"/api/messages/{mid}/review"
    bodies = {
        "body.note": {"decision": "correct", "labels": ["meeting notice"], "note": "a\x00b"},
        "body.labels[0]": {"decision": "correct", "labels": ["meeting\x00notice"]},
        "body.subject": {"subject": "\x00", "text": "x"},
    }
    for field, body in bodies.items():
        target = "/api/decide" if "subject" in body else url
        assert_bad_input(pg_client.post(target, headers=AUTH, json=body), field)
    assert pg_client.get(f"/api/messages/{mid}", headers=AUTH).json()["reviews"] == []


def test_a_nul_in_the_login_or_playground_form_answers_400(pg_app: FastAPI) -> None:
    with TestClient(pg_app, base_url="https://testserver") as anon:
        token = csrf_of(anon.get("/login").text)
        form = {"username": "ad\x00min", "password": PASSWORD, "csrf_token": token}
        assert_bad_input(anon.post("/login", data=form), "username")
        login(anon)
        token = csrf_of(anon.get("/playground").text)
        form = {"subject": "s", "text": "t\x00", "labels": "", "csrf_token": token}
        assert_bad_input(anon.post("/playground", data=form), "text")


def test_a_real_server_keeps_the_connection_after_a_refused_search(pg_app: FastAPI, mid: int) -> None:
    """uvicorn on a raw socket: a 500 used to close the connection, so the next keep-alive request on
    it failed. Now the 400 is an ordinary answer and the same connection serves the next request."""
    with serving(pg_app, log_level="critical") as port:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        headers = {"Authorization": "Bearer test-api-token"}
        answers = []
        for query in ("q=%00", "q=budget", "account=%00", "q=budget"):
            conn.request("GET", f"/api/decisions?{query}", headers=headers)
            response = conn.getresponse()
            answers.append((response.status, response.getheader("connection"), response.read()[:80]))
        assert [a[0] for a in answers] == [400, 200, 400, 200], answers
        assert all(a[1] != "close" for a in answers), answers
        conn.close()
