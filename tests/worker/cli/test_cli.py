"""The command line end to end, in a real subprocess: output contract and one-line errors."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

SAMPLES = REPO / "samples" / "mailbox"
OFFICE = REPO / "rules" / "examples" / "office.yaml"


def mailroute(
    *args: str, stdin: bytes | None = None, cwd: Path = REPO, **env: str
) -> subprocess.CompletedProcess[bytes]:
    command = [sys.executable, "-c", "from worker.cli import main; main()", *args]
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("MAILROUTE_")} | env
    return subprocess.run(command, input=stdin, cwd=cwd, env=full_env, capture_output=True, timeout=300)


def test_classify_json_contract() -> None:
    mail = SAMPLES / "10-system-alert-disk-space.eml"
    done = mailroute("classify", str(mail), "--rules", str(OFFICE), "--backend", "constant", "--json")
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert set(out["scores"]) == {
        "urgent matters",
        "project progress",
        "meeting notice",
        "customer inquiry",
        "system alert",
    }
    assert all(0.0 <= v <= 1.0 for v in out["scores"].values())
    assert set(out["decision"]) >= {"labels", "needs_review", "reasons"} and out["decision"]["reasons"]


def test_classify_reads_standard_input() -> None:
    raw = (SAMPLES / "07-customer-inquiry-enterprise-pricing.eml").read_bytes()
    done = mailroute("classify", "-", "--rules", str(OFFICE), "--backend", "constant", "--json", stdin=raw)
    assert done.returncode == 0 and json.loads(done.stdout)["subject"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["classify", "/nonexistent.eml"], "no such file"),
        (
            ["classify", str(SAMPLES / "10-system-alert-disk-space.eml"), "--backend", "gpt"],
            "unknown backend",
        ),
        (
            ["classify", str(SAMPLES / "10-system-alert-disk-space.eml"), "--rules", "/nope.yaml"],
            "no such file",
        ),
        (["ingest", "/nonexistent-dir"], "no such file"),
    ],
)
def test_errors_are_one_clear_line(args: list[str], message: str, tmp_path: Path) -> None:
    done = mailroute(*args, cwd=tmp_path, MAILROUTE_DATABASE_URL=f"sqlite:///{tmp_path / 'x.db'}")
    assert done.returncode == 2
    lines = done.stderr.decode().strip().splitlines()
    assert len(lines) == 1 and message in lines[0] and "Traceback" not in done.stderr.decode()


def test_invalid_rule_set_names_file_and_line(tmp_path: Path) -> None:
    rules = tmp_path / "bad.yaml"
    rules.write_text("name: x\ncategories:\n  - name: a\n    description: d\n    threshold: high\n")
    done = mailroute(
        "classify",
        str(SAMPLES / "10-system-alert-disk-space.eml"),
        "--rules",
        str(rules),
        "--backend",
        "constant",
    )
    err = done.stderr.decode().strip()
    assert done.returncode == 2 and f"{rules}:5" in err and "threshold" in err


@pytest.mark.slow
def test_demo_prints_a_decision_for_every_sample(tmp_path: Path) -> None:
    done = mailroute("demo", "--database", str(tmp_path / "demo.db"), cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    out = done.stdout.decode()
    n = len(list(SAMPLES.glob("*.eml")))
    assert f"{n} decisions" in out and str(tmp_path / "demo.db") in out.replace("\n", "")
    with sqlite3.connect(tmp_path / "demo.db") as conn:
        dead = conn.execute("SELECT kind, target FROM actions WHERE status IN ('dead', 'failed')").fetchall()
        webhooks = conn.execute("SELECT status FROM actions WHERE kind = 'webhook'").fetchall()
    assert dead == [] and set(webhooks) <= {("done",)}, (dead, webhooks)  # no action left dead
    assert "helpdesk v1" in out and "default v1" in out  # two profiles, each with its rule set
