"""The admin shows a rules file that does not load: a banner on every page and mailroute_rules_valid 0."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from tests.admin.conftest import admin_settings, login
from worker.pipeline.rulesource import last_good_path

BROKEN = "name: chaos\ncategories: [oops\n"


def test_admin_banner_and_metric_show_the_rules_error(sqlite_url: str, tmp_path: Path) -> None:
    from admin.app import create_app
    from tests.chaos.conftest import write_rules
    from worker.cli.db import upgrade

    rules = write_rules(tmp_path)
    upgrade(url=sqlite_url)
    settings = admin_settings(sqlite_url).model_copy(update={"rules_path": rules})
    app = create_app(settings, enqueue=lambda ids: None)
    with TestClient(app, base_url="https://testserver") as anon:
        client = login(anon)
        check(client, rules)


def check(client: TestClient, rules: Path) -> None:
    try:
        assert "does not load" not in client.get("/review").text
        assert "mailroute_rules_valid 1.0" in client.get("/metrics").text
        rules.write_text(BROKEN)
        page = client.get("/review").text
        assert "The rules file does not load" in page and str(rules) in page
        assert "mailroute_rules_valid 0.0" in client.get("/metrics").text
    finally:
        last_good_path(rules).unlink(missing_ok=True)
