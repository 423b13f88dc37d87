"""Security checks across the product: who gets in, what mail content can do, what leaks.

Auth on every route (enumerated from the route table), CSRF and session fixation are also covered
in tests/admin; here they are re-checked as one list, plus XSS from mail content, path traversal,
SQL injection in every filter field, webhook signature tampering and replay, secrets in logs and
error pages, and safe YAML loading of rule sets and endpoint files.
"""

from __future__ import annotations

import logging
import time

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from admin.auth import SESSION_COOKIE
from connectors.webhook.delivery import sign
from tests.admin.builders import add_mail
from tests.admin.conftest import csrf_of, login
from tests.admin.test_auth import protected_routes
from worker.db.session import session_factory

XSS = '<script>alert("x")</script><img src=x onerror=alert(1)><svg onload=alert(2)>'
SQLI = [
    "' OR '1'='1",
    "'; DROP TABLE messages; --",
    "%' UNION SELECT password FROM users --",
    "\\",
    "%_%",
    "1; SELECT pg_sleep(5)",
    "\x00",
    "' OR 1=1 LIMIT 1 --",
    '") OR ("1"="1',
    "*/ OR /*",
]
FILTERS = ["account", "category", "since", "until", "q", "state", "sort", "page"]


def db_url(app: FastAPI) -> str:
    return str(app.state.settings.database_url)


def test_every_route_is_enumerated_and_refuses_strangers(app: FastAPI, anon: TestClient) -> None:
    routes = protected_routes(app)
    assert len(routes) >= 15
    for method, path in routes:
        response = anon.request(method, path, follow_redirects=False)
        assert response.status_code in (303, 401, 403), (method, path, response.status_code)
    assert anon.get("/api/review", headers={"Authorization": "Bearer wrong"}).status_code == 401


def test_forms_need_a_csrf_token_bound_to_the_session(client: TestClient, anon: TestClient) -> None:
    other = csrf_of(anon.get("/login").text)  # a real token, from someone else's pre-session
    for token in ("", "forged", other):
        response = client.post("/logout", data={"csrf_token": token}, follow_redirects=False)
        assert response.status_code == 403, token


def test_session_fixation_a_planted_cookie_is_replaced_at_login(anon: TestClient) -> None:
    anon.cookies.set(SESSION_COOKIE, "attacker-chosen-value", domain="testserver.local")
    login(anon)
    jar = [c.value for c in anon.cookies.jar if c.name == SESSION_COOKIE]
    assert jar and any(v != "attacker-chosen-value" for v in jar)
    assert anon.get("/review", follow_redirects=False).status_code == 200


def test_mail_content_is_never_rendered_as_html(app: FastAPI, client: TestClient) -> None:
    with session_factory(db_url(app)).begin() as session:
        id_ = add_mail(session, subject=XSS, sender=f"{XSS} <x@example.com>", needs_review=True)
    pages = [client.get(p).text for p in ("/review", "/decisions", f"/messages/{id_}")]
    for html in pages:
        assert "<script>alert" not in html and "<img src=x" not in html and "<svg onload" not in html
    assert "&lt;script&gt;" in pages[2]
    csp = client.get(f"/messages/{id_}").headers.get("content-security-policy", "")
    assert "script-src" in csp or "default-src" in csp
    api = client.get(f"/api/messages/{id_}")  # JSON carries it as data, never as markup
    assert api.json()["subject"] == XSS and api.headers["content-type"].startswith("application/json")


@pytest.mark.parametrize(
    "path",
    [
        "/static/../admin/auth.py",
        "/static/..%2fauth.py",
        "/static/%2e%2e/%2e%2e/etc/passwd",
        "/static/....//....//etc/passwd",
        "/dashboard/..%2f..%2fetc%2fpasswd.png",
        "/dashboard/../../x.png",
        "/static//etc/passwd",
        "/static/%00admin.css",
    ],
)
def test_no_path_traversal_in_file_serving_routes(client: TestClient, path: str) -> None:
    response = client.get(path, follow_redirects=False)
    assert response.status_code in (303, 307, 400, 404, 405, 422), (path, response.status_code)
    assert b"root:" not in response.content and b"def hash_password" not in response.content


@pytest.mark.parametrize("field", FILTERS)
def test_sql_injection_in_every_filter_field_is_inert(app: FastAPI, client: TestClient, field: str) -> None:
    with session_factory(db_url(app)).begin() as session:
        add_mail(session, subject="Quarterly numbers")
    for payload in SQLI:
        for path in ("/decisions", "/review", "/api/decisions", "/api/review", "/decisions.csv"):
            started = time.monotonic()
            response = client.get(path, params={field: payload})
            expected = (400,) if "\x00" in payload else (200, 422)  # a NUL is refused up front
            assert response.status_code in expected, (path, field, payload, response.status_code)
            assert time.monotonic() - started < 3
            assert "Traceback" not in response.text and "sqlalchemy" not in response.text.lower()
    assert client.get("/api/decisions").json()["total"] == 1  # the table is still there, still one row


def test_webhook_signature_detects_tampering_and_replay() -> None:
    secret, body, ts = b"s3cret", b'{"decision":"urgent"}', 1_700_000_000
    good = sign(secret, ts, body)
    assert sign(secret, ts, body + b" ") != good  # body changed
    assert sign(secret, ts + 1, body) != good  # timestamp changed: an old body cannot be re-stamped
    assert sign(b"other", ts, body) != good  # wrong key
    assert good.startswith("sha256=") and len(good) == 7 + 64


def test_secrets_never_reach_logs_or_error_pages(
    app: FastAPI, anon: TestClient, client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    from worker.core.settings import redact_url

    caplog.set_level(logging.DEBUG)
    anon.post(
        "/login",
        data={
            "username": "admin",
            "password": "hunter2-not-the-password",
            "csrf_token": csrf_of(anon.get("/login").text),
        },
    )
    error = client.get("/messages/999999")
    assert error.status_code == 404
    text = caplog.text + error.text + client.get("/healthz").text + client.get("/metrics").text
    for secret in ("hunter2-not-the-password", "test-secret-key", "test-api-token"):
        assert secret not in text, secret
    assert "Traceback" not in error.text
    assert redact_url("postgresql://u:pw-123@h/db") == "postgresql://u:***@h/db"


def test_endpoint_secrets_stay_out_of_reprs_and_errors(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from connectors.webhook.endpoints import Endpoint, load_endpoints
    from worker.core.errors import ConfigError

    endpoint = Endpoint(name="crm", url="https://crm.example.com/hook", secret=b"very-secret-value")
    assert "very-secret-value" not in repr(endpoint)
    bad = tmp_path / "hooks.yaml"
    bad.write_text("endpoints:\n  crm:\n    url: ftp://x\n    secret: very-secret-value\n")
    with pytest.raises(ConfigError) as info:
        load_endpoints(bad)
    assert "very-secret-value" not in str(info.value)


@pytest.mark.parametrize(
    "payload",
    [
        "!!python/object/apply:os.system ['touch /tmp/pwned-mailroute']",
        "!!python/object/new:subprocess.Popen [['touch', '/tmp/pwned-mailroute']]",
        "!!python/name:os.system",
    ],
)
def test_rule_set_and_endpoint_yaml_are_loaded_safely(tmp_path, payload: str) -> None:  # type: ignore[no-untyped-def]
    from pathlib import Path

    from connectors.webhook.endpoints import load_endpoints
    from rules import parse_rule_set
    from worker.core.errors import MailrouteError

    marker = Path("/tmp/pwned-mailroute")
    marker.unlink(missing_ok=True)
    with pytest.raises(MailrouteError):
        parse_rule_set(f"name: {payload}\ncategories: []\n")
    hooks = tmp_path / "h.yaml"
    hooks.write_text(f"endpoints: {payload}\n")
    with pytest.raises(MailrouteError):
        load_endpoints(hooks)
    assert not marker.exists()


def test_yaml_alias_bomb_is_refused_or_bounded() -> None:
    from rules import parse_rule_set
    from worker.core.errors import MailrouteError

    bomb = "a: &a [x,x,x,x,x,x,x,x,x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)}]\n"
        for i in range(9)
    )
    started = time.monotonic()
    with pytest.raises(MailrouteError):
        parse_rule_set(bomb + "name: x\ncategories: []\n")
    assert time.monotonic() - started < 5
