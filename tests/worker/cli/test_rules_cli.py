"""``mailroute rules push|pull|history|rollback`` and ``mailroute healthcheck rules``, in a subprocess."""

from __future__ import annotations

from pathlib import Path

from tests.worker.cli.test_cli import mailroute
from tests.worker.profiles_fixtures import HELPDESK, record_unloadable_version
from worker.db.session import session_factory


def test_push_pull_history_rollback(sqlite_url: str, tmp_path: Path) -> None:
    env = {"MAILROUTE_DATABASE_URL": sqlite_url}
    first = tmp_path / "support.yaml"
    first.write_text(HELPDESK)
    done = mailroute(
        "rules", "push", str(first), "--profile", "support", "-m", "first", "--author", "ann", **env
    )
    assert done.returncode == 0, done.stderr
    assert b"support: published version 1 (helpdesk-queue" in done.stdout
    again = mailroute("rules", "push", str(first), "--profile", "support", **env)
    assert b"nothing published" in again.stdout
    first.write_text(HELPDESK.replace("threshold: 0.5", "threshold: 0.8"))
    assert mailroute("rules", "push", str(first), "-p", "support", **env).returncode == 0
    pulled = mailroute("rules", "pull", "-p", "support", "--version", "1", **env)
    assert pulled.stdout.decode() == HELPDESK
    history = mailroute("rules", "history", "-p", "support", **env).stdout.decode().splitlines()
    assert [line.split("\t")[0] for line in history] == ["v2", "v1"] and "ann" in history[1]
    back = mailroute("rules", "rollback", "1", "-p", "support", **env)
    assert b"version 1 is live again as version 3" in back.stdout
    assert mailroute("rules", "pull", "-p", "support", **env).stdout.decode() == HELPDESK


def test_an_invalid_push_is_refused_with_line_and_key(sqlite_url: str, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(HELPDESK.replace("top_k: 1,", "top_k: many,"))
    done = mailroute("rules", "push", str(bad), "--profile", "support", MAILROUTE_DATABASE_URL=sqlite_url)
    assert done.returncode == 2
    assert done.stderr.decode().startswith(f"mailroute: error: {bad}:2: policy.top_k:")


def test_healthcheck_names_a_live_version_that_does_not_load(sqlite_url: str, tmp_path: Path) -> None:
    env = {"MAILROUTE_DATABASE_URL": sqlite_url}
    good = tmp_path / "support.yaml"
    good.write_text(HELPDESK)
    mailroute("rules", "push", str(good), "--profile", "support", **env)
    assert mailroute("healthcheck", "rules", **env).returncode == 0
    with session_factory(sqlite_url).begin() as session:
        record_unloadable_version(session, "support", 2)
    sick = mailroute("healthcheck", "rules", **env)
    assert sick.returncode == 1
    assert b"profile support: version 2 does not load (routing with version 1)" in sick.stderr
