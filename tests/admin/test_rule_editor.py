"""The rule-set editor over HTTP: preview (validation with line and key, diff, backtest), publish
against the previewed version only, rollback, and a live version that fails to load shown."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.admin.builders import OFFICE_RULES
from tests.admin.conftest import csrf_of
from tests.worker.profiles_fixtures import mail, record_unloadable_version
from worker.pipeline.classify import classify_profiles
from worker.pipeline.profiles import ProfileSources
from worker.scoring.backends.constant import ConstantScorer
from worker.store import rulesets
from worker.store.messages import Origin, store_message

OFFICE = OFFICE_RULES.read_text()
STRICT = OFFICE.replace("  threshold: 0.6\n", "  threshold: 0.7\n", 1)


def decide_some(client: TestClient, n: int = 3) -> None:
    app = client.app
    with app.state.session_factory.begin() as session:  # type: ignore[attr-defined]
        ids = [store_message(session, mail(100 + i, f"Mail {i}"), Origin("a", "INBOX")).id for i in range(n)]
        sources = ProfileSources(app.state.session_factory, rules_path=OFFICE_RULES)  # type: ignore[attr-defined]
        classify_profiles(session, ids, ConstantScorer(0.62), sources)


def post(client: TestClient, path: str, page: str, **data: object) -> object:
    token = csrf_of(client.get(page).text)
    return client.post(path, data={"csrf_token": token, **data}, follow_redirects=False)


def test_preview_shows_flips_and_diff_then_publish_and_rollback(client: TestClient) -> None:
    client.app.state.runtime().scorer = ConstantScorer(0.62)  # type: ignore[attr-defined]
    page = client.get("/rules/default")
    assert page.status_code == 200 and 'id="live-version">1<' in page.text  # bootstrapped from the file
    decide_some(client)
    preview = post(client, "/rules/default/preview", "/rules/default", yaml=STRICT, limit=50)
    assert preview.status_code == 200  # type: ignore[attr-defined]
    html = preview.text  # type: ignore[attr-defined]
    assert 'id="flips">3<' in html and "-  threshold: 0.6" in html and "+  threshold: 0.7" in html
    with client.app.state.session_factory() as session:  # type: ignore[attr-defined]
        assert rulesets.head(session, "default") == 1  # a preview publishes nothing
    done = post(
        client, "/rules/default/publish", "/rules/default", yaml=STRICT, base_version=1, message="stricter"
    )
    assert done.status_code == 303 and done.headers["location"] == "/rules/default?published=2"  # type: ignore[attr-defined]
    stale = post(client, "/rules/default/publish", "/rules/default", yaml=OFFICE, base_version=1)
    assert stale.status_code == 409  # type: ignore[attr-defined]
    back = post(client, "/rules/default/rollback", "/rules/default", version=1)
    assert back.headers["location"] == "/rules/default?published=3"  # type: ignore[attr-defined]
    with client.app.state.session_factory() as session:  # type: ignore[attr-defined]
        live = rulesets.get_version(session, "default")
        assert (live.version, live.yaml, live.author) == (3, OFFICE, "admin")
        assert rulesets.get_version(session, "default", 2).message == "stricter"


def test_an_invalid_draft_is_refused_with_line_and_key(client: TestClient) -> None:
    broken = OFFICE.replace("    threshold: 0.65\n", "    threshold: high\n")
    preview = post(client, "/rules/default/preview", "/rules/default", yaml=broken)
    assert preview.status_code == 422  # type: ignore[attr-defined]
    assert "draft:15: categories[0].threshold" in preview.text  # type: ignore[attr-defined]
    forced = post(client, "/rules/default/publish", "/rules/default", yaml=broken, base_version=1)
    assert forced.status_code == 422 and "categories[0].threshold" in forced.text  # type: ignore[attr-defined]
    with client.app.state.session_factory() as session:  # type: ignore[attr-defined]
        assert rulesets.head(session, "default") == 1


def test_a_live_version_that_fails_to_load_is_shown(client: TestClient) -> None:
    client.get("/rules/default")
    with client.app.state.session_factory.begin() as session:  # type: ignore[attr-defined]
        record_unloadable_version(session, "default", 2)
    listing = client.get("/rules").text
    assert "version 2 does not load" in listing and "still routing with version 1" in listing
    assert "does not load" in client.get("/rules/default").text


def test_a_message_is_reviewed_with_its_own_profiles_categories(sqlite_url: str) -> None:
    from admin.app import create_app
    from tests.admin.conftest import Enqueued, admin_settings, login
    from tests.worker.profiles_fixtures import HELPDESK, WordScorer
    from worker.pipeline.runtime import Runtime

    settings = admin_settings(sqlite_url)
    runtime = Runtime(settings, WordScorer(), lambda: rulesets.validate(OFFICE))
    app = create_app(settings, runtime_provider=lambda: runtime, enqueue=Enqueued())
    with app.state.session_factory.begin() as session:
        rulesets.publish(session, "support", HELPDESK, author="admin")
        message_id = store_message(
            session, mail(1, "Refund please"), Origin("a", "Support", 1, 1, "support")
        ).id
    with app.state.session_factory.begin() as session:
        classify_profiles(session, [message_id], WordScorer(), app.state.profiles)
    with TestClient(app, base_url="https://testserver") as client:
        login(client)
        page = client.get(f"/messages/{message_id}").text
        assert 'value="bug report"' in page and 'value="urgent matters"' not in page
        done = post(
            client,
            f"/messages/{message_id}/review",
            f"/messages/{message_id}",
            decision="correct",
            labels="bug report",
        )
        assert done.status_code == 303, done.text  # type: ignore[attr-defined]
