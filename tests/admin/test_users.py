"""admin/users.py and the users/audit pages on SQLite: bootstrap admin, refusals, audit CSV."""

from __future__ import annotations

import csv
import io

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from admin import identity, users
from tests.admin.builders import MailSpec, add_mail
from tests.admin.conftest import admin_settings, csrf_of
from tests.admin.people import USER_PASSWORD, add_user, log_in, session_csrf
from worker.db.models import AuditEvent, Role, User


def test_the_settings_admin_becomes_the_first_user_at_login(app: FastAPI, client: TestClient) -> None:
    with app.state.session_factory() as session:
        admin = session.scalars(select(User)).one()
        actions = [(e.actor, e.action) for e in session.scalars(select(AuditEvent).order_by(AuditEvent.id))]
    assert (admin.username, admin.role, admin.profiles) == ("admin", Role.ADMIN, ["*"])
    assert admin.last_login_at is not None
    assert actions == [("settings", "user.add"), ("admin", "login")]


def test_wrong_password_unknown_and_disabled_users_are_refused(sqlite_url: str) -> None:
    settings = admin_settings(sqlite_url)
    from worker.db.session import session_factory

    with session_factory(sqlite_url).begin() as session:
        users.add_user(session, "lee", USER_PASSWORD, role=Role.VIEWER, profiles=["default"], actor="t")
        assert identity.by_password(session, settings, "lee", USER_PASSWORD) is not None
        assert identity.by_password(session, settings, "lee", "wrong password!") is None
        assert identity.by_password(session, settings, "nobody", USER_PASSWORD) is None
        users.set_disabled(session, "lee", disabled=True, actor="t")
        assert identity.by_password(session, settings, "lee", USER_PASSWORD) is None


@pytest.mark.parametrize(
    ("name", "password", "role", "error"),
    [
        ("lee", "short", Role.VIEWER, "at least 10 characters"),
        ("lee", USER_PASSWORD, "owner", "role must be one of"),
        ("", USER_PASSWORD, Role.VIEWER, "1 to 255 characters"),
        ("admin", USER_PASSWORD, Role.VIEWER, "exists already"),
    ],
)
def test_add_user_refuses_bad_input(app: FastAPI, name: str, password: str, role: str, error: str) -> None:
    add_user(app, "admin", Role.ADMIN)
    with app.state.session_factory() as session, pytest.raises(users.UserError, match=error):
        users.add_user(session, name, password, role=role, profiles=["*"], actor="t")


def test_the_users_page_adds_a_user_and_shows_a_new_token_once(app: FastAPI, client: TestClient) -> None:
    csrf = session_csrf(client)
    form = {"csrf_token": csrf, "username": "rita", "password": USER_PASSWORD, "role": "reviewer"}
    added = client.post("/users", data=form | {"profiles": "support, sales"}, follow_redirects=False)
    assert added.status_code == 303
    with app.state.session_factory() as session:
        rita = session.scalars(select(User).where(User.username == "rita")).one()
    assert rita.profiles == ["sales", "support"] and rita.role == "reviewer"
    page = client.post(f"/users/{rita.id}/tokens", data={"csrf_token": csrf, "name": "cli"})
    assert page.status_code == 200 and 'class="new-token"' in page.text
    assert 'class="new-token"' not in client.get("/users").text
    changed = client.post(
        f"/users/{rita.id}/role",
        data={"csrf_token": csrf, "role": "viewer", "profiles": "sales"},
        follow_redirects=False,
    )
    assert changed.status_code == 303
    with app.state.session_factory() as session:
        rita = session.scalars(select(User).where(User.username == "rita")).one()
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == "user.role")).one()
    assert (rita.role, rita.profiles) == ("viewer", ["sales"])
    assert (
        event.before == {"role": "reviewer", "profiles": ["sales", "support"]}
        and event.after["role"] == "viewer"
    )
    bad = client.post("/users", data=form | {"username": "x", "password": "short"})
    assert bad.status_code == 400 and "at least 10 characters" in bad.text


def test_audit_csv_has_who_and_before_after_and_defuses_formulas(
    app: FastAPI, client: TestClient, anon: TestClient
) -> None:
    with app.state.session_factory.begin() as session:
        mid = add_mail(session, MailSpec(labels=("project progress",)))
    add_user(app, "=rita", Role.REVIEWER)
    with TestClient(app, base_url="https://testserver") as rita:
        log_in(rita, "=rita")
        form = {"csrf_token": session_csrf(rita), "decision": "correct", "labels": ["meeting notice"]}
        assert rita.post(f"/messages/{mid}/review", data=form, follow_redirects=False).status_code == 303
    rows = list(csv.DictReader(io.StringIO(client.get("/audit.csv?action=review.correct").text)))
    assert len(rows) == 1
    assert rows[0]["actor"] == "'=rita" and rows[0]["subject"] == f"message:{mid}"
    assert '"project progress"' in rows[0]["before"] and '"meeting notice"' in rows[0]["after"]
    page = client.get("/audit").text
    assert "=rita" in page and "review.correct" in page and "login" in page
    api = anon.get("/api/audit?action=review.correct", headers={"Authorization": "Bearer test-api-token"})
    assert [e["actor"] for e in api.json()] == ["=rita"]
    assert csrf_of(page)
