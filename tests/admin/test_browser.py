"""End to end in headless Chromium (Debian's; no download): log in, review, correct, XSS, CSRF.

Skipped when Chromium is missing, except in CI (CI=true), where that is a failure. Set
``MAILROUTE_SCREENSHOTS=docs/screenshots`` to also save the review and message pages as PNG.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from sqlalchemy import select

from tests.admin.builders import PASSWORD, XSS_TEXT, MailSpec, add_mail, seed_demo
from tests.admin.cdp import Browser, find_chromium
from tests.admin.conftest import make_app, serving
from tests.admin.people import USER_PASSWORD, add_user
from tests.admin.routes import endpoints
from tests.conftest import require_service
from worker.db.models import Message, Role

pytestmark = pytest.mark.browser
SCREENSHOTS = os.environ.get("MAILROUTE_SCREENSHOTS")


@pytest.fixture
def browser() -> Iterator[Browser]:
    binary = find_chromium()
    require_service(binary is not None, "Chromium (apt install chromium)")
    assert binary is not None
    b = Browser(binary)
    try:
        yield b
    finally:
        b.close()


@pytest.fixture
def server(sqlite_url: str) -> Iterator[tuple[str, FastAPI]]:
    app = make_app(sqlite_url)
    with serving(app) as port:
        yield f"http://127.0.0.1:{port}", app


def fill(selector: str, value: str) -> str:
    return f"document.querySelector({json.dumps(selector)}).value = {json.dumps(value)};"


def test_review_flow_in_chromium(browser: Browser, server: tuple[str, FastAPI]) -> None:
    base, app = server
    with app.state.session_factory.begin() as session:
        seed_demo(session)
        target = session.scalars(
            select(Message.id).where(Message.subject.like("Invoice 4471%")).order_by(Message.id.desc())
        ).first()
    assert target is not None

    # anonymous: sent to the login page; then log in
    browser.goto(f"{base}/review")
    assert browser.path.startswith("/login?next=")
    browser.submit(
        fill("input[name=username]", "admin")
        + fill("input[name=password]", PASSWORD)
        + "document.querySelector('form[action=\"/login\"]').submit();"
    )
    assert browser.path == "/review"
    assert browser.evaluate(f"!!document.querySelector('a[href=\"/messages/{target}\"]')")
    if SCREENSHOTS:
        browser.screenshot(Path(SCREENSHOTS) / "review.png")

    # the message page: no actions before the review
    browser.submit(f"document.querySelector('a[href=\"/messages/{target}\"]').click()")
    assert browser.path == f"/messages/{target}"
    assert browser.evaluate("document.querySelectorAll('tr.action-row').length") == 0
    assert browser.evaluate("document.querySelectorAll('svg.bar').length") == 5
    if SCREENSHOTS:
        browser.screenshot(Path(SCREENSHOTS) / "message.png")

    # correct it in one click: customer inquiry + urgent matters
    browser.submit(
        "for (const box of document.querySelectorAll('input[name=labels]'))"
        "  box.checked = ['customer inquiry', 'urgent matters'].includes(box.value);"
        "document.querySelector('button[value=correct]').click();"
    )
    assert browser.path == "/review?notice=corrected"
    assert "Correction saved" in browser.text(".notice")
    assert not browser.evaluate(f"!!document.querySelector('a[href=\"/messages/{target}\"]')")
    browser.goto(f"{base}/messages/{target}")
    rows = browser.evaluate(
        "[...document.querySelectorAll('tr.action-row')].map(r => r.dataset.kind + ' ' + r.dataset.target)"
    )
    assert sorted(rows) == [
        "imap_flag \\Flagged",
        "imap_keyword customer-inquiry",
        "imap_keyword urgent",
        "webhook crm-intake",
    ]
    assert "corrected" in browser.text(".page-head") and "admin" in browser.text(".history")

    # a mail with <script> and onerror= payloads shows as text, and nothing runs
    with app.state.session_factory.begin() as session:
        evil = add_mail(session, MailSpec(subject="<img src=x onerror=alert(1)>", text=XSS_TEXT))
    browser.events.clear()
    browser.goto(f"{base}/messages/{evil}")
    assert browser.text("pre.mailtext") == XSS_TEXT
    assert browser.text("h1") == "<img src=x onerror=alert(1)>"
    assert browser.evaluate("document.querySelectorAll('main script, main img').length") == 0
    assert not [e for e in browser.events if e.get("method") == "Page.javascriptDialogOpening"]

    # a form posted without the CSRF token is refused
    browser.submit(
        "const f = document.getElementById('review-form');"
        "f.querySelector('input[name=csrf_token]').remove();"
        "f.querySelector('button[value=approve]').click();"
    )
    assert "CSRF" in browser.text()
    browser.goto(f"{base}/review")
    assert browser.evaluate(f"!!document.querySelector('a[href=\"/messages/{evil}\"]')")  # still waiting


def test_every_route_refuses_a_browser_without_session(browser: Browser, server: tuple[str, FastAPI]) -> None:
    base, app = server
    pages = [e.path for e in endpoints(app) if "GET" in e.methods]
    pages = [p for p in pages if p not in ("/login", "/healthz", "/metrics")]
    assert len(pages) >= 10, pages
    for route_path in pages:
        path = (
            route_path.replace("{message_id}", "1")
            .replace("{name}", "volume")
            .replace("{profile}", "default")
        )
        browser.goto(base + path)
        if path.startswith("/api"):
            assert "login required" in browser.text(), path
        else:
            assert browser.path.startswith("/login"), path


def log_in_browser(browser: Browser, base: str, name: str, password: str) -> None:
    browser.goto(f"{base}/login")
    browser.submit(
        fill("input[name=username]", name)
        + fill("input[name=password]", password)
        + "document.querySelector('form[action=\"/login\"]').submit();"
    )
    assert browser.path == "/review", browser.path


def test_a_reviewer_corrects_and_the_audit_names_them(browser: Browser, server: tuple[str, FastAPI]) -> None:
    base, app = server
    add_user(app, "dana.reviewer", Role.REVIEWER, ("default",))
    with app.state.session_factory.begin() as session:
        target = add_mail(session, MailSpec(subject="Please call me back", labels=("project progress",)))

    log_in_browser(browser, base, "dana.reviewer", USER_PASSWORD)
    assert not browser.evaluate("!!document.querySelector('a[href=\"/audit\"]')")  # not an admin
    browser.goto(f"{base}/messages/{target}")
    browser.submit(
        "for (const box of document.querySelectorAll('input[name=labels]'))"
        "  box.checked = box.value === 'customer inquiry';"
        "document.querySelector('button[value=correct]').click();"
    )
    assert browser.path == "/review?notice=corrected"
    browser.goto(f"{base}/audit")
    assert "403" in browser.text() or "admin role" in browser.text()
    browser.goto(f"{base}/review")
    browser.submit("document.querySelector('form[action=\"/logout\"]').submit();")

    log_in_browser(browser, base, "admin", PASSWORD)
    browser.goto(f"{base}/audit?action=review.correct")
    rows = browser.evaluate(
        "[...document.querySelectorAll('tr.audit-row')].map(r => ["
        "r.querySelector('.actor').textContent.trim(),"
        "[...r.querySelectorAll('.before .chip')].map(c => c.textContent),"
        "[...r.querySelectorAll('.after .chip')].map(c => c.textContent)])"
    )
    assert rows == [["dana.reviewer", ["project progress"], ["customer inquiry"]]]
    browser.goto(f"{base}/decisions")
    assert "by dana.reviewer" in browser.text("table.list")
