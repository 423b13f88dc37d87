"""``mailroute demo`` ends with no dead action: the rule set's webhook endpoints get a local receiver."""

from __future__ import annotations

import os
import sqlite3
from collections import Counter
from pathlib import Path

import httpx
import pytest

from connectors.webhook.endpoints import load_endpoints
from rules import load_rule_set
from tests.worker.cli.test_cli import OFFICE, SAMPLES, mailroute
from worker.cli.demo_receiver import ENV, local_receiver, webhook_endpoints


def test_the_receiver_serves_every_endpoint_of_the_rule_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV, raising=False)
    with local_receiver(load_rule_set(OFFICE)) as receiver:
        assert receiver.names == ("crm-intake",)
        endpoints = load_endpoints(Path(os.environ[ENV]))
        assert set(endpoints) == {"crm-intake"}
        assert httpx.post(endpoints["crm-intake"].url, content=b"{}").status_code == 204
    assert receiver.received == [("crm-intake", b"{}")]
    assert ENV not in os.environ


def test_a_configured_webhooks_file_is_left_alone(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(ENV, str(tmp_path / "mine.yaml"))
    with local_receiver(load_rule_set(OFFICE)) as receiver:
        assert receiver.names == () and os.environ[ENV] == str(tmp_path / "mine.yaml")


def test_the_demo_leaves_no_dead_action(tmp_path: Path) -> None:
    """Every sample forced into ``customer inquiry`` (webhook ``crm-intake``), scored by the constant
    backend so the test needs no model: every webhook action must end ``done``."""
    rules = tmp_path / "office.yaml"
    forced = "  - {field: from, pattern: '.', effect: force, category: customer inquiry}\n"
    rules.write_text(OFFICE.read_text().replace("conditions:\n", "conditions:\n" + forced, 1))
    assert webhook_endpoints(load_rule_set(rules)) == ("crm-intake",)
    db = tmp_path / "demo.db"
    env = {"MAILROUTE_BACKEND": "constant", "MAILROUTE_RULES_PATH": str(rules)}
    done = mailroute("demo", "--database", str(db), cwd=tmp_path, **env)
    assert done.returncode == 0, done.stderr[-2000:]
    with sqlite3.connect(db) as conn:
        statuses = Counter(conn.execute("SELECT kind, status FROM actions").fetchall())
    samples = len(list(SAMPLES.glob("*.eml")))
    webhooks = sum(n for (kind, _), n in statuses.items() if kind == "webhook")
    assert samples >= 12 and webhooks >= samples - 3, statuses  # all but the mails another rule claims
    assert statuses[("webhook", "done")] == webhooks, statuses
    assert not [key for key in statuses if key[1] in ("dead", "failed")], statuses
    assert f"{webhooks} webhook deliveries" in done.stdout.decode()
