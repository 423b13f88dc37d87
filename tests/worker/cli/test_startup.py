"""What a command imports before it runs: only its own module's (a poller's start-up is routing delay)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import typer

from tests.conftest import REPO
from worker.cli import COMMANDS, _register_all, modules_for


def imported_by(*argv: str, env: dict[str, str] | None = None) -> set[str]:
    """The modules loaded once ``mailroute ARGV`` has run (in a fresh interpreter)."""
    code = (
        "import json, sys\n"
        f"sys.argv = ['mailroute', *{list(argv)!r}]\n"
        "from worker.cli import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    base = {k: v for k, v in os.environ.items() if not k.startswith("MAILROUTE_")}
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, env=base | (env or {}), capture_output=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return set(json.loads(done.stdout.splitlines()[-1]))


@pytest.mark.parametrize("module", list(COMMANDS))
def test_each_module_registers_the_names_listed_for_it(module: str) -> None:
    app = typer.Typer()
    _register_all((module,), target=app)
    names = {c.name for c in app.registered_commands} | {g.name for g in app.registered_groups}
    assert names == set(COMMANDS[module])


def test_a_named_command_imports_only_its_own_module() -> None:
    assert modules_for(["poll", "--once"]) == ("worker.cli.poll",)
    assert modules_for(["requeue"]) == ("worker.cli.ops",)
    assert modules_for(["--help"]) == modules_for([]) == modules_for(["nope"]) == tuple(COMMANDS)


def test_poll_does_not_import_the_other_commands() -> None:
    loaded = imported_by("poll", "--help")
    assert "worker.cli.poll" in loaded
    assert not loaded & {"worker.cli.classify", "worker.cli.eval", "worker.cli.admin", "alembic"}


def test_help_still_lists_every_command() -> None:
    base = {k: v for k, v in os.environ.items() if not k.startswith("MAILROUTE_")}
    command = [sys.executable, "-c", "from worker.cli import main; main()", "--help"]
    done = subprocess.run(command, cwd=REPO, env=base | {"COLUMNS": "200"}, capture_output=True, timeout=120)
    out = done.stdout.decode()
    assert all(name in out for names in COMMANDS.values() for name in names), out


SWEEP = """
import json, sys
from worker.cli.db import upgrade
from worker.cli.poll import sweep_and_alert
from worker.core.settings import get_settings
upgrade()
sweep_and_alert(get_settings())
print(json.dumps(sorted(sys.modules)))
"""


@pytest.mark.parametrize(("endpoint", "loaded"), [("", False), ("ops", True)])
def test_the_poller_loads_the_alert_client_only_when_alerts_are_on(
    endpoint: str, loaded: bool, tmp_path: Path
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAILROUTE_")} | {
        "MAILROUTE_DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite'}",
        "MAILROUTE_BROKER_URL": "memory://localhost/",
        "MAILROUTE_REVIEW_ALERT_ENDPOINT": endpoint,
    }
    done = subprocess.run([sys.executable, "-c", SWEEP], cwd=REPO, env=env, capture_output=True, timeout=120)
    assert done.returncode == 0, done.stderr.decode()[-3000:]
    modules = set(json.loads(done.stdout.splitlines()[-1]))
    assert ("connectors.webhook.notify" in modules) is loaded


def test_registering_again_adds_the_missing_modules_only() -> None:
    from worker.cli import app

    _register_all(("worker.cli.db",))
    _register_all()
    _register_all()
    names = [c.name for c in app.registered_commands] + [g.name for g in app.registered_groups]
    assert sorted(names) == sorted(name for names in COMMANDS.values() for name in names)
