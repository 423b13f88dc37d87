"""Login on every route but health, metrics, login and static; sessions; the password hash."""

from __future__ import annotations

import re

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from admin.auth import SESSION_COOKIE, hash_password, verify_password
from tests.admin.builders import PASSWORD
from tests.admin.conftest import csrf_of, login
from tests.admin.routes import endpoints

OPEN = {"/healthz", "/metrics", "/login"}
SAMPLE_PARAMS = {
    "message_id": "1",
    "action_id": "1",
    "name": "volume",
    "user_id": "1",
    "token_id": "1",
    "profile": "default",
}


def protected_routes(app: FastAPI) -> list[tuple[str, str]]:
    """Every (method, path) of the app's route table that must need a login."""
    found = []
    for endpoint in endpoints(app):
        if endpoint.path in OPEN:
            continue
        path = re.sub(r"\{(\w+)(:\w+)?\}", lambda m: SAMPLE_PARAMS[m.group(1)], endpoint.path)
        found.extend((method, path) for method in sorted(endpoint.methods - {"HEAD"}))
    assert found, "no protected route found: the tests over them would check nothing"
    return found


def test_route_table_is_covered(app: FastAPI) -> None:
    paths = {path for _, path in protected_routes(app)}
    assert {
        "/review",
        "/messages/1",
        "/decisions.csv",
        "/api/review",
        "/api/openapi.json",
        "/logout",
    } <= paths
    assert len(paths) >= 15


def test_every_route_refuses_anonymous_requests(app: FastAPI, anon: TestClient) -> None:
    token = csrf_of(anon.get("/login").text)  # a valid pre-session token must not be enough either
    for method, path in protected_routes(app):
        kwargs: dict = {"follow_redirects": False}
        if method != "GET":
            kwargs["data" if not path.startswith("/api") else "json"] = (
                {"csrf_token": token, "decision": "approve"}
                if not path.startswith("/api")
                else {"decision": "approve"}
            )
        response = anon.request(method, path, **kwargs)
        if path.startswith("/api"):
            assert response.status_code == 401, (method, path, response.status_code)
        else:
            assert response.status_code in (303, 403), (method, path, response.status_code)
            if response.status_code == 303:
                assert response.headers["location"].startswith("/login"), (method, path)


def test_open_routes_answer_without_login(anon: TestClient) -> None:
    assert anon.get("/healthz").status_code == 200
    assert anon.get("/metrics").status_code == 200
    assert anon.get("/login").status_code == 200
    assert anon.get("/static/admin.css").status_code == 200
    assert anon.get("/docs").status_code == 404 and anon.get("/openapi.json").status_code == 404


def test_login_sets_a_secure_httponly_samesite_cookie_and_rotates_the_session(anon: TestClient) -> None:
    token = csrf_of(anon.get("/login").text)
    response = anon.post(
        "/login",
        data={"username": "admin", "password": PASSWORD, "csrf_token": token},
        follow_redirects=False,
    )
    assert response.status_code == 303 and response.headers["location"] == "/review"
    cookie = next(
        v for k, v in response.headers.multi_items() if k == "set-cookie" and v.startswith(SESSION_COOKIE)
    )
    assert "HttpOnly" in cookie and "Secure" in cookie and "samesite=lax" in cookie.lower()
    first = anon.cookies.get(SESSION_COOKIE)
    assert anon.get("/review").status_code == 200
    login(anon)  # a second login gets a new session id, so a planted cookie is never kept
    assert anon.cookies.get(SESSION_COOKIE) != first


def test_wrong_password_and_rate_limit(anon: TestClient) -> None:
    token = csrf_of(anon.get("/login").text)
    for _ in range(5):
        response = anon.post("/login", data={"username": "admin", "password": "nope", "csrf_token": token})
        assert response.status_code == 401 and "Wrong user name or password" in response.text
    response = anon.post("/login", data={"username": "admin", "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 429
    assert SESSION_COOKIE not in anon.cookies


def test_tampered_cookie_and_logout(client: TestClient) -> None:
    good = client.cookies.get(SESSION_COOKIE)
    assert good
    client.cookies.clear()
    client.cookies.set(SESSION_COOKIE, good[:-2] + ("AA" if good[-2:] != "AA" else "BB"))
    assert client.get("/review", follow_redirects=False).status_code == 303
    client.cookies.clear()
    login(client)
    token = csrf_of(client.get("/review").text)
    assert client.post("/logout", data={"csrf_token": token}, follow_redirects=False).status_code == 303
    assert client.get("/review", follow_redirects=False).status_code == 303


def test_next_parameter_never_leaves_the_site(anon: TestClient) -> None:
    token = csrf_of(anon.get("/login").text)
    response = anon.post(
        "/login",
        data={"username": "admin", "password": PASSWORD, "csrf_token": token, "next": "//evil.example/x"},
        follow_redirects=False,
    )
    assert response.headers["location"] == "/review"


def test_bearer_token_opens_the_api(anon: TestClient) -> None:
    assert anon.get("/api/review", headers={"Authorization": "Bearer test-api-token"}).status_code == 200
    assert anon.get("/api/review", headers={"Authorization": "Bearer wrong"}).status_code == 401


@pytest.mark.parametrize("password", [PASSWORD, "", "ünïcødé pass"])
def test_password_hash_round_trip(password: str) -> None:
    encoded = hash_password(password)
    assert encoded.startswith("scrypt$") and verify_password(password, encoded)
    assert not verify_password(password + "x", encoded)
    assert not verify_password(password, "garbage") and not verify_password(password, "md5$1$2$3$4$5")
