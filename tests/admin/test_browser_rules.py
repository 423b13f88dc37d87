"""The rule-set editor in headless Chromium: edit a threshold, see the preview's flip count,
publish; the next mail is decided by the new version (its decision says so); rollback restores."""

from __future__ import annotations

import json

import pytest
from fastapi import FastAPI
from sqlalchemy import select

from tests.admin.builders import OFFICE_RULES, PASSWORD
from tests.admin.cdp import Browser
from tests.admin.test_browser import browser, fill, server  # noqa: F401  (fixtures)
from tests.worker.profiles_fixtures import mail
from worker.db.models import Decision
from worker.pipeline.classify import classify_profiles
from worker.pipeline.profiles import ProfileSources
from worker.scoring.backends.constant import ConstantScorer
from worker.store.messages import Origin, store_message

pytestmark = pytest.mark.browser
OFFICE = OFFICE_RULES.read_text()
OLD, NEW = json.dumps("  threshold: 0.6\n"), json.dumps("  threshold: 0.7\n")  # the policy's threshold
SCORER = ConstantScorer(0.62)  # passes the 0.6 policy threshold, not a 0.7 one


def route_new_mail(app: FastAPI, sources: ProfileSources, i: int) -> Decision:
    """Store one mail of the default profile and decide it as a worker does."""
    with app.state.session_factory.begin() as session:
        message_id = store_message(session, mail(i, f"Mail {i}"), Origin("a", "INBOX")).id
    with app.state.session_factory.begin() as session:
        classify_profiles(session, [message_id], SCORER, sources)
    with app.state.session_factory() as session:
        decision = session.scalar(select(Decision).where(Decision.message_id == message_id))
    assert decision is not None
    return decision


def test_edit_preview_publish_and_rollback_in_chromium(
    browser: Browser,  # noqa: F811
    server: tuple[str, FastAPI],  # noqa: F811
) -> None:
    base, app = server
    app.state.runtime().scorer = SCORER
    worker = ProfileSources(app.state.session_factory, rules_path=OFFICE_RULES)  # a running worker's
    before = [route_new_mail(app, worker, i) for i in range(3)]
    assert {(d.rule_set_version, len(d.labels)) for d in before} == {(1, 4)}

    browser.goto(f"{base}/rules/default")
    browser.submit(
        fill("input[name=username]", "admin")
        + fill("input[name=password]", PASSWORD)
        + "document.querySelector('form[action=\"/login\"]').submit();"
    )
    assert browser.path == "/rules/default" and browser.text("#live-version") == "1"

    # raise the policy threshold 0.6 -> 0.7 in the editor, preview
    browser.submit(
        "const t = document.querySelector('textarea[name=yaml]');"
        f"t.value = t.value.replace({OLD}, {NEW});"
        "document.getElementById('edit-form').submit();"
    )
    assert browser.path == "/rules/default/preview"
    assert browser.text("#flips") == "3" and browser.text("#backtested") == "3"
    assert "+  threshold: 0.7" in browser.text("pre.diff")

    browser.submit(fill("input[name=message]", "stricter") + "document.getElementById('publish').click();")
    assert browser.path == "/rules/default?published=2" and "Version 2 published" in browser.text(".notice")
    after = route_new_mail(app, worker, 10)  # the same worker, no restart
    assert (after.rule_set_version, after.labels) == (2, [])

    browser.submit("document.querySelector('tr[data-version=\"1\"] button.rollback').click();")
    assert browser.path == "/rules/default?published=3" and browser.text("#live-version") == "3"
    restored = route_new_mail(app, worker, 11)
    assert restored.rule_set_version == 3 and len(restored.labels) == 4
