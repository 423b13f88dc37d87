"""Every route × every role on real Postgres: each role gets exactly its permissions, in its profiles.

The route table is read from the app at run time; ``MIN_ROLE`` maps each (method, path) to the least
role it needs, and a route missing from the table (or a stale entry) fails the test.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import select

from admin.users import token_hash
from tests.admin.builders import MailSpec, add_mail
from tests.admin.conftest import csrf_of, make_app
from tests.admin.people import USER_PASSWORD, add_user, log_in, session_csrf, token_for
from worker.db.models import Action, ApiToken, Message, Role

pytestmark = pytest.mark.integration
PUBLIC, V, R, A = "public", Role.VIEWER, Role.REVIEWER, Role.ADMIN
MIN_ROLE = {
    ("GET", "/healthz"): PUBLIC,
    ("GET", "/metrics"): PUBLIC,
    ("GET", "/login"): PUBLIC,
    ("POST", "/login"): PUBLIC,
    ("POST", "/logout"): V,
    ("GET", "/"): V,
    ("GET", "/review"): V,
    ("GET", "/messages/{message_id}"): V,
    ("POST", "/messages/{message_id}/review"): R,
    ("POST", "/messages/{message_id}/actions/{action_id}/redeliver"): R,
    ("GET", "/decisions"): V,
    ("GET", "/decisions.csv"): V,
    ("GET", "/dashboard"): V,
    ("GET", "/dashboard/{name}.png"): V,
    ("GET", "/playground"): R,
    ("POST", "/playground"): R,
    ("GET", "/learning"): V,
    ("GET", "/users"): A,
    ("POST", "/users"): A,
    ("POST", "/users/{user_id}/role"): A,
    ("POST", "/users/{user_id}/disable"): A,
    ("POST", "/users/{user_id}/password"): A,
    ("POST", "/users/{user_id}/tokens"): A,
    ("POST", "/users/{user_id}/tokens/{token_id}/revoke"): A,
    ("GET", "/audit"): A,
    ("GET", "/audit.csv"): A,
    ("GET", "/api/review"): V,
    ("GET", "/api/decisions"): V,
    ("GET", "/api/messages/{message_id}"): V,
    ("POST", "/api/messages/{message_id}/review"): R,
    ("POST", "/api/decide"): R,
    ("GET", "/api/stats"): V,
    ("GET", "/api/openapi.json"): V,
    ("GET", "/api/audit"): A,
    ("GET", "/rules"): V,
    ("GET", "/rules/{profile}"): V,
    ("POST", "/rules/{profile}/preview"): A,
    ("POST", "/rules/{profile}/publish"): A,
    ("POST", "/rules/{profile}/rollback"): A,
}
ROLES = (V, R, A)


def routes(app: FastAPI) -> list[tuple[str, str]]:
    found = [
        (method, route.path)
        for route in app.routes
        if isinstance(route, APIRoute)
        for method in sorted(route.methods - {"HEAD"})
    ]
    return sorted(found, key=lambda r: r == ("POST", "/logout"))  # logging out last


@pytest.fixture
def world(postgres_url: str) -> Iterator[tuple[FastAPI, dict[str, str]]]:
    app = make_app(postgres_url)
    with app.state.session_factory.begin() as session:
        mid = add_mail(session, MailSpec(needs_review=False, labels=("customer inquiry",)))
        action = session.scalars(select(Action.id).where(Action.message_id == mid)).first()
    target = add_user(app, "target", V)
    token_for(app, "target")
    with app.state.session_factory() as session:
        token_id = session.scalars(select(ApiToken.id)).first()
    params = {
        "message_id": str(mid),
        "action_id": str(action),
        "name": "volume",
        "user_id": str(target),
        "token_id": str(token_id),
        "profile": "default",
    }
    yield app, params


def concrete(path: str, params: dict[str, str]) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: params[m.group(1)], path)


def call(client: TestClient, method: str, path: str, *, csrf: str, bearer: str | None = None) -> int:
    kwargs: dict = {"follow_redirects": False}
    if path.startswith("/api"):
        headers = {"Authorization": f"Bearer {bearer}"} if bearer else {"X-CSRF-Token": csrf}
        kwargs["headers"] = headers
        if method == "POST":
            kwargs["json"] = {"decision": "approve", "subject": "hi", "text": "hello"}
    elif method == "POST":
        kwargs["data"] = {
            "csrf_token": csrf,
            "decision": "approve",
            "username": f"new-{csrf[:6]}",
            "password": "a new long password",
            "name": "t",
            "role": "viewer",
        }
    return client.request(method, path, **kwargs).status_code


def test_route_table_is_complete(world: tuple[FastAPI, dict[str, str]]) -> None:
    app, _ = world
    found = routes(app)
    assert len(found) >= 30, "the app's route table looks empty"
    assert set(found) == set(MIN_ROLE), f"routes without a minimum role: {set(found) ^ set(MIN_ROLE)}"


@pytest.mark.parametrize("role", ROLES)
def test_each_role_gets_exactly_its_permissions(role: str, world: tuple[FastAPI, dict[str, str]]) -> None:
    app, params = world
    add_user(app, f"the-{role}", role, ("default",))
    bearer = token_for(app, f"the-{role}")
    checked = 0
    with TestClient(app, base_url="https://testserver") as client:
        log_in(client, f"the-{role}")
        csrf = session_csrf(client)
        for method, route_path in routes(app):
            needed = MIN_ROLE[(method, route_path)]
            if needed == PUBLIC:
                continue
            path = concrete(route_path, params)
            allowed = Role.ORDER.index(role) >= Role.ORDER.index(needed)
            ways = [None, bearer] if path.startswith("/api") else [None]
            for way in ways:
                status = call(client, method, path, csrf=csrf, bearer=way)
                how = "token" if way else "session"
                if allowed:
                    assert status not in (401, 403, 404) and status < 500, (role, method, path, how, status)
                else:
                    assert status == 403, (role, method, path, how, status)
                checked += 1
    assert checked >= 35


def test_a_reviewer_of_another_profile_gets_404(world: tuple[FastAPI, dict[str, str]]) -> None:
    app, params = world
    mid = params["message_id"]
    add_user(app, "support-reviewer", R, ("support",))  # every message here is in profile "default"
    bearer = token_for(app, "support-reviewer")
    auth = {"Authorization": f"Bearer {bearer}"}
    with TestClient(app, base_url="https://testserver") as client:
        log_in(client, "support-reviewer")
        csrf = session_csrf(client)
        assert client.get(f"/messages/{mid}").status_code == 404
        assert client.get(f"/api/messages/{mid}", headers=auth).status_code == 404
        review = {"csrf_token": csrf, "decision": "approve"}
        assert client.post(f"/messages/{mid}/review", data=review, follow_redirects=False).status_code == 404
        api_review = client.post(f"/api/messages/{mid}/review", headers=auth, json={"decision": "approve"})
        assert api_review.status_code == 404
        redeliver = f"/messages/{mid}/actions/{params['action_id']}/redeliver"
        assert client.post(redeliver, data=review, follow_redirects=False).status_code == 404
        assert client.get("/api/decisions", headers=auth).json()["total"] == 0
        assert f"/messages/{mid}" not in client.get("/decisions").text
        assert client.get("/decisions.csv").text.count("\n") == 1  # the header only
    add_user(app, "default-reviewer", R, ("default",))
    auth = {"Authorization": f"Bearer {token_for(app, 'default-reviewer')}"}
    assert TestClient(app).get(f"/api/messages/{mid}", headers=auth).status_code == 200


def test_two_profiles_each_reviewer_sees_only_theirs(world: tuple[FastAPI, dict[str, str]]) -> None:
    app, _ = world
    with app.state.session_factory.begin() as session:
        a = add_mail(session, MailSpec(subject="for A"))
        b = add_mail(session, MailSpec(subject="for B"))
        session.get(Message, a).profile = "a"  # type: ignore[union-attr]
        session.get(Message, b).profile = "b"  # type: ignore[union-attr]
    add_user(app, "rev-a", R, ("a",))
    auth = {"Authorization": f"Bearer {token_for(app, 'rev-a')}"}
    client = TestClient(app)
    assert client.get(f"/api/messages/{a}", headers=auth).status_code == 200
    assert client.get(f"/api/messages/{b}", headers=auth).status_code == 404
    assert [i["id"] for i in client.get("/api/review", headers=auth).json()["items"]] == [a]


def test_tokens_are_hashed_at_rest_and_a_revoked_one_is_refused(
    world: tuple[FastAPI, dict[str, str]],
) -> None:
    app, _ = world
    add_user(app, "dana", R)
    token = token_for(app, "dana")
    client = TestClient(app)
    auth = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/review", headers=auth).status_code == 200
    with app.state.session_factory() as session:
        rows = list(session.scalars(select(ApiToken)))
        stored = [(r.token_hash, r.prefix, r.name) for r in rows]
        mine = next(r for r in rows if r.token_hash == token_hash(token))
        assert mine.last_used_at is not None
    assert all(token not in value for row in stored for value in row)
    with TestClient(app, base_url="https://testserver") as admin:
        log_in(admin, "admin", "correct horse battery staple")
        csrf = session_csrf(admin)
        revoked = admin.post(
            f"/users/{mine.user_id}/tokens/{mine.id}/revoke",
            data={"csrf_token": csrf},
            follow_redirects=False,
        )
        assert revoked.status_code == 303
    refused = client.get("/api/review", headers=auth)
    assert refused.status_code == 401 and refused.json()["detail"] == "invalid token"


def test_a_disabled_user_is_out_at_once(world: tuple[FastAPI, dict[str, str]]) -> None:
    app, _ = world
    uid = add_user(app, "lee", R)
    token = token_for(app, "lee")
    with (
        TestClient(app, base_url="https://testserver") as lee,
        TestClient(app, base_url="https://testserver") as admin,
    ):
        log_in(lee, "lee")
        assert lee.get("/review").status_code == 200
        log_in(admin, "admin", "correct horse battery staple")
        admin.post(f"/users/{uid}/disable", data={"csrf_token": session_csrf(admin)}, follow_redirects=False)
        assert lee.get("/review", follow_redirects=False).status_code == 303
        assert lee.get("/api/review", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    with TestClient(app, base_url="https://testserver") as again:
        form = {"username": "lee", "password": USER_PASSWORD, "csrf_token": csrf_of(again.get("/login").text)}
        assert again.post("/login", data=form, follow_redirects=False).status_code == 401
