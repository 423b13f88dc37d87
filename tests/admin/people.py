"""Helpers for tests with several admin users: add them, log them in, give them tokens."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient

from admin import users
from tests.admin.conftest import csrf_of

USER_PASSWORD = "a reviewer's long password"


def add_user(app: FastAPI, name: str, role: str, profiles: tuple[str, ...] = ("*",)) -> int:
    with app.state.session_factory.begin() as session:
        return users.add_user(session, name, USER_PASSWORD, role=role, profiles=profiles, actor="test").id


def token_for(app: FastAPI, name: str) -> str:
    with app.state.session_factory.begin() as session:
        return users.issue_token(session, name, name="test", actor="test")


def log_in(client: TestClient, name: str, password: str = USER_PASSWORD) -> TestClient:
    token = csrf_of(client.get("/login").text)
    response = client.post(
        "/login",
        data={"username": name, "password": password, "csrf_token": token, "next": "/review"},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    return client


def session_csrf(client: TestClient) -> str:
    """The CSRF token of a logged-in client's session (from a page every role may see)."""
    return csrf_of(client.get("/decisions").text)
