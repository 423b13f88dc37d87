"""The admin's learning page shows learned thresholds with the data behind them, behind the login."""

from __future__ import annotations

from dataclasses import replace

from fastapi.testclient import TestClient

from admin.app import create_app
from rules import Policy
from tests.admin.builders import MailSpec, add_mail, office_rules
from tests.admin.conftest import admin_settings, login
from worker.db.session import session_factory
from worker.pipeline.runtime import Runtime
from worker.review import corrections as review
from worker.scoring.backends.constant import ConstantScorer


def test_learning_page(sqlite_url: str) -> None:
    rules = office_rules()
    rules = replace(rules, policy=Policy(**{**rules.policy.to_dict(), "target_precision": 0.9}))
    settings = admin_settings(sqlite_url, threshold_min_examples=3)
    with session_factory(sqlite_url).begin() as session:
        for i in range(4):  # four reviewed mails proposed "project progress", one corrected away
            mid = add_mail(
                session, MailSpec(subject=f"Status {i}", scores={"project progress": 0.5 + i / 10})
            )
            if i == 0:
                review.correct(session, mid, ["meeting notice"], "rita", rule_set=rules)
            else:
                review.approve(session, mid, "rita", rule_set=rules)
    runtime = Runtime(settings, ConstantScorer(), lambda: rules)
    app = create_app(settings, runtime_provider=lambda: runtime, rule_set_provider=lambda: rules)
    with TestClient(app, base_url="https://testserver") as client:
        assert client.get("/learning", follow_redirects=False).status_code == 303  # login first
        page = login(client).get("/learning")
    assert page.status_code == 200 and "4 reviewed mails" in page.text and "90%" in page.text
    row = page.text.split('<th scope="row">project progress</th>')[1].split("</tr>\n")[0]
    assert "0.600" in row and "learned" in row and "4 (3)" in row and "100.0%" in row


def test_learning_page_shows_the_learned_model_and_the_message_page_its_version(sqlite_url: str) -> None:
    import numpy as np
    from sqlalchemy import select

    from worker.db.models import Decision
    from worker.learning import store
    from worker.learning.classifier import fit

    rules = office_rules()
    names = rules.category_names()
    rng = np.random.default_rng(0)
    y = np.arange(60) % len(names)
    vectors = np.eye(len(names), 16)[y] + rng.normal(scale=0.3, size=(60, 16))
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    model = fit(vectors, np.full((60, len(names)), 0.5), y, names)
    settings = admin_settings(sqlite_url)
    with session_factory(sqlite_url).begin() as session:
        assert store.save(session, rules.name, model, review_version="9:9") == 1
        mid = add_mail(session, MailSpec(subject="Decided by v1", scores={"project progress": 0.8}))
        session.scalars(select(Decision).where(Decision.message_id == mid)).one().learned_version = 1
    runtime = Runtime(settings, ConstantScorer(), lambda: rules)
    app = create_app(settings, runtime_provider=lambda: runtime, rule_set_provider=lambda: rules)
    with TestClient(app, base_url="https://testserver") as client:
        page = login(client).get("/learning")
        message = client.get(f"/messages/{mid}")
    assert page.status_code == 200 and "v1" in page.text and "60 reviewed mails" in page.text
    assert "cross-validated accuracy" in page.text and "<circle" in page.text  # the calibration plot
    assert all(f'<th scope="row">{name}</th><td class="num">' in page.text for name in names)
    assert "10 most similar among the last 5000 decided mails (weight 0.40" in page.text
    assert "0 mails of this rule set are remembered" in page.text
    assert message.status_code == 200 and "learned model <strong>v1</strong>" in message.text
