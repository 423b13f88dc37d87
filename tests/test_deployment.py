"""The deployment files, checked without a Docker engine.

docker-compose.yml is parsed with PyYAML and interpolated with the values of .env.example; every
service command (and every health check that runs mailroute or celery) is parsed by the real CLI —
typer's click commands and celery's own argument parser, ``make_context`` only, nothing runs; every
variable is documented; every long-running service has a health check and a restart policy (the
one-shot ``migrate`` has neither: it runs once and exits). The Dockerfiles' commands are parsed the
same way, and every metric the Prometheus alerts use is one the admin's /metrics serves.
"""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path
from typing import Any

import click
import pytest
import typer
import yaml
from typer.testing import CliRunner

from worker.core.settings import Settings

REPO = Path(__file__).resolve().parents[1]
COMPOSE = REPO / "docker-compose.yml"
ONE_SHOT = {"migrate"}  # runs `mailroute db upgrade` and exits: no health check, no restart
THIRD_PARTY = {"postgres", "redis", "flower"}  # images with their own commands
_VAR = re.compile(r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}")


def env_example() -> dict[str, str]:
    """KEY=VALUE lines of .env.example (quotes stripped), commented-out ones excluded."""
    values = {}
    for line in (REPO / ".env.example").read_text().splitlines():
        match = re.match(r"^([A-Z][A-Z0-9_]*)=(.*)$", line)
        if match:
            values[match[1]] = match[2].strip().strip("'\"")
    return values


def documented_names() -> set[str]:
    """Variables named in .env.example (set or commented out) or the README's settings table."""
    names = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]*)=", (REPO / ".env.example").read_text(), re.M))
    return names | set(re.findall(r"^\| `(MAILROUTE_[A-Z0-9_]+)` \|", (REPO / "README.md").read_text(), re.M))


def interpolate(text: str, env: dict[str, str]) -> str:
    """Compose's ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?error}; $$ is a literal $."""

    def one(match: re.Match[str]) -> str:
        name, op, arg = match["name"], match["op"], match["arg"]
        value = env.get(name)
        if op in (":-", "-") and (value is None or (op == ":-" and not value)):
            return arg
        if op in (":?", "?") and (value is None or (op == ":?" and not value)):
            raise AssertionError(f"compose would stop: {name}: {arg}")
        return value or ""

    return _VAR.sub(one, text.replace("$$", "\x00")).replace("\x00", "$")


@pytest.fixture(scope="module")
def raw_compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text())


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    """The compose file as compose runs it with a .env copied from .env.example."""
    return yaml.safe_load(interpolate(COMPOSE.read_text(), env_example()))


try:  # typer >= 0.20 vendors click as typer._click; celery uses click itself
    from typer._click.exceptions import UsageError as TyperUsageError
except ImportError:  # pragma: no cover - older typer: plain click
    TyperUsageError = click.UsageError  # type: ignore[assignment,misc]
USAGE_ERRORS = (click.UsageError, TyperUsageError)


@pytest.fixture(scope="module")
def mailroute_cli() -> Any:
    """The click command of the real ``mailroute`` app, every sub-command module registered."""
    from worker.cli import _register_all, app

    _register_all()  # each module once, whatever an earlier test's main() registered
    return typer.main.get_command(app)


def parse_click(command: Any, name: str, args: list[str], **extra: Any) -> list[str]:
    """Parse ``args`` down the command tree as click does before invoking; returns the command path."""
    ctx = command.make_context(name, list(args), **extra)
    if not hasattr(command, "resolve_command"):  # a leaf command: its options parsed, nothing left over
        return [name]
    rest = [*(getattr(ctx, "_protected_args", None) or []), *ctx.args]
    assert rest, f"{name}: a sub-command is missing"
    sub_name, sub, sub_args = command.resolve_command(ctx, rest)
    assert sub is not None and sub_name is not None
    return [name, *parse_click(sub, sub_name, sub_args, parent=ctx)]


def parse_celery(args: list[str]) -> list[str]:
    """Celery's own parser (click), with the app loaded as `celery -A worker` loads it."""
    from celery.app.utils import find_app
    from celery.bin.base import CLIContext
    from celery.bin.celery import celery

    app = find_app(args[args.index("-A") + 1] if "-A" in args else "worker")
    obj = CLIContext(app=app, no_color=True, workdir=None)
    if "flower" in args and "flower" not in celery.commands:  # a plugin only the flower image has
        ctx = celery.make_context("celery", list(args), obj=obj)  # the global options still parse
        assert [*ctx._protected_args, *ctx.args][0] == "flower"
        return ["celery", "flower"]
    return parse_click(celery, "celery", args, obj=obj)


def parse_command(argv: list[str], cli: Any) -> list[str]:
    program, *args = argv
    if program == "mailroute":
        return parse_click(cli, "mailroute", args)
    if program == "celery":
        return parse_celery(args)
    raise AssertionError(f"not a mailroute or celery command: {argv}")


def healthcheck_argv(test: list[str]) -> list[str]:
    kind, *rest = test
    if kind == "CMD":
        return rest
    assert kind == "CMD-SHELL" and len(rest) == 1
    return shlex.split(rest[0].replace("$HOSTNAME", "container1"))


def own_services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {name: svc for name, svc in compose["services"].items() if name not in THIRD_PARTY}


def test_compose_has_the_whole_service(compose: dict[str, Any]) -> None:
    services = "postgres redis migrate poller worker-actions worker-cpu worker-gpu admin flower"
    assert set(compose["services"]) == set(services.split())
    assert set(compose["volumes"]) >= {"pgdata", "hf-cache"}


def test_every_service_command_parses_with_the_real_cli(compose: dict[str, Any], mailroute_cli: Any) -> None:
    paths = {}
    for name, service in compose["services"].items():
        command = service.get("command")
        if name == "postgres":
            continue
        if name == "redis":
            assert command[0] == "redis-server"
            continue
        assert isinstance(command, list), f"{name}: use the exec (list) form"
        paths[name] = " ".join(parse_command(command, mailroute_cli))
    assert paths == {
        "migrate": "mailroute db upgrade",
        "poller": "mailroute poll",
        "worker-actions": "celery worker",
        "worker-cpu": "celery worker",
        "worker-gpu": "celery worker",
        "admin": "mailroute admin serve",
        "flower": "celery flower",
    }


def test_the_parser_rejects_what_would_fail_in_a_container(mailroute_cli: Any) -> None:
    with pytest.raises(USAGE_ERRORS):
        parse_command(["mailroute", "poll", "--no-such-option"], mailroute_cli)
    with pytest.raises(USAGE_ERRORS):
        parse_command(["mailroute", "db", "upgrayedd"], mailroute_cli)
    with pytest.raises(USAGE_ERRORS):
        parse_command(["mailroute", "prune", "--older-than", "soon"], mailroute_cli)
    with pytest.raises(USAGE_ERRORS):
        parse_command(["celery", "-A", "worker", "worker", "--pool=threadz"], mailroute_cli)


def test_workers_consume_the_queues_that_exist_with_the_right_pool(compose: dict[str, Any]) -> None:
    from worker.tasks.app import QUEUES, app

    routed = {route["queue"] for route in app.conf.task_routes.values()} | {app.conf.task_default_queue}
    assert routed == set(QUEUES)
    consumed: dict[str, set[str]] = {}
    for name in ("worker-actions", "worker-cpu", "worker-gpu"):
        command = compose["services"][name]["command"]
        queues = command[command.index("-Q") + 1].split(",")
        assert set(queues) <= set(QUEUES), name
        consumed[name] = set(queues)
    assert consumed["worker-cpu"] == consumed["worker-gpu"] == {"classify"}
    assert consumed["worker-actions"] | consumed["worker-cpu"] == set(QUEUES)
    cpu, gpu = compose["services"]["worker-cpu"], compose["services"]["worker-gpu"]
    assert cpu["profiles"] == ["cpu"] and gpu["profiles"] == ["gpu"]  # one model per queue
    assert "--pool=solo" in gpu["command"] and "--concurrency=1" in gpu["command"]


def test_gpu_worker_runs_qwen3_reranker_on_vllm_with_a_reserved_gpu(compose: dict[str, Any]) -> None:
    gpu = compose["services"]["worker-gpu"]
    env = gpu["environment"]
    assert env["MAILROUTE_BACKEND"] == "vllm" and env["MAILROUTE_MODEL"] == "Qwen/Qwen3-Reranker-4B"
    assert env["MAILROUTE_DTYPE"] == "bfloat16" and env["VLLM_ENABLE_V1_MULTIPROCESSING"] == "0"
    device = gpu["deploy"]["resources"]["reservations"]["devices"][0]
    assert device["driver"] == "nvidia" and "gpu" in device["capabilities"] and device["device_ids"] == ["0"]
    assert f"hf-cache:{env['HF_HOME']}" in gpu["volumes"]
    assert gpu["build"]["dockerfile"] == "Dockerfile.gpu"


def test_every_long_running_service_has_a_health_check_and_a_restart_policy(
    compose: dict[str, Any], mailroute_cli: Any
) -> None:
    for name, service in compose["services"].items():
        if name in ONE_SHOT:
            assert "healthcheck" not in service and service["restart"] == "no", name
            continue
        assert service["restart"] in ("unless-stopped", "always"), name
        test = service["healthcheck"]["test"]
        argv = healthcheck_argv(test)
        if argv[0] in ("mailroute", "celery"):
            parse_command(argv, mailroute_cli)
    checks = {name: " ".join(svc["healthcheck"]["test"]) for name, svc in compose["services"].items()
              if name not in ONE_SHOT}  # fmt: skip
    assert "pg_isready" in checks["postgres"] and "redis-cli ping" in checks["redis"]
    assert "/healthz" in checks["admin"] and "healthcheck poller" in checks["poller"]
    for worker in ("worker-actions", "worker-cpu", "worker-gpu"):
        node = compose["services"][worker]["command"]
        node_name = node[node.index("-n") + 1].split("@")[0]
        assert f"inspect ping -d {node_name}@$HOSTNAME" in checks[worker]  # `$$` in the file


def test_services_start_after_migrations_and_healthy_dependencies(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert services["migrate"]["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    for name, service in own_services(compose).items():
        if name in ONE_SHOT:
            continue
        assert service["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}, name
        assert service["depends_on"]["redis"] == {"condition": "service_healthy"}, name
    assert any(v.startswith("pgdata:") for v in services["postgres"]["volumes"])


def test_every_referenced_variable_is_documented(raw_compose: dict[str, Any]) -> None:
    text = COMPOSE.read_text().replace("$$", "")
    referenced = {m["name"] for m in _VAR.finditer(text)}
    for service in raw_compose["services"].values():
        referenced |= set(service.get("environment") or {})
    referenced |= set(raw_compose["x-mailroute-env"])
    missing = referenced - documented_names()
    assert not missing, f"document these in .env.example: {sorted(missing)}"


def test_every_mailroute_variable_is_a_real_setting(raw_compose: dict[str, Any]) -> None:
    fields = {f"MAILROUTE_{name.upper()}" for name in Settings.model_fields}
    named = set(
        re.findall(r"\bMAILROUTE_[A-Z0-9_]+\b", COMPOSE.read_text() + (REPO / ".env.example").read_text())
    )
    assert named - fields == set(), "unknown settings (typos?)"


def test_each_services_environment_makes_valid_settings(compose: dict[str, Any]) -> None:
    dotenv = env_example()
    for name, service in own_services(compose).items():
        env = {**dotenv, **{k: str(v) for k, v in (service.get("environment") or {}).items()}}
        values = {
            k.removeprefix("MAILROUTE_").lower(): v for k, v in env.items() if k.startswith("MAILROUTE_")
        }
        settings = Settings.model_validate(values)  # what pydantic-settings makes of these variables
        assert settings.database_url.startswith("postgresql+psycopg://mailroute:"), name
        assert settings.broker_url == "redis://redis:6379/0", name
        assert settings.log_json, name


def test_the_migration_and_probe_commands_run_outside_a_container(
    compose: dict[str, Any], mailroute_cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from worker.core.settings import get_settings

    monkeypatch.setenv("MAILROUTE_DATABASE_URL", f"sqlite:///{tmp_path / 'deploy.db'}")
    get_settings.cache_clear()
    services = compose["services"]
    try:
        from worker.cli import app

        runner = CliRunner()
        migrate = runner.invoke(app, services["migrate"]["command"][1:])
        assert migrate.exit_code == 0 and "database at head" in migrate.output, migrate.output
        probe = runner.invoke(app, healthcheck_argv(services["poller"]["healthcheck"]["test"])[1:])
        assert probe.exit_code == 0 and "healthy: 0 folder lease(s) held" in probe.output, probe.output
    finally:
        get_settings.cache_clear()


def dockerfile_cmd(path: Path) -> list[str]:
    match = re.search(r"^CMD (\[.*\])$", path.read_text(), re.M)
    assert match, f"{path.name}: CMD in exec form"
    return list(json.loads(match[1]))


def test_cpu_image_is_multi_stage_non_root_with_the_cpu_torch_pin() -> None:
    text = (REPO / "Dockerfile").read_text()
    assert len(re.findall(r"^FROM ", text, re.M)) >= 2 and re.search(r"^FROM .* AS build$", text, re.M)
    assert re.search(
        r"pip install --require-hashes --no-deps --extra-index-url https://download.pytorch.org/whl/cpu \\\n"
        r"\s+-r requirements\.lock",
        text,
    )
    assert re.search(r"^torch==2\.13\.0\+cpu \\$", (REPO / "requirements.lock").read_text(), re.M)
    assert '"torch==2.13.0"' in (REPO / "pyproject.toml").read_text()  # the same pin
    assert re.search(r"^USER mailroute$", text, re.M) and "--uid 10001" in text
    assert dockerfile_cmd(REPO / "Dockerfile") == ["mailroute", "--help"]  # services say what to run


def test_gpu_image_is_vllm_based_non_root_and_runs_a_solo_worker(mailroute_cli: Any) -> None:
    text = (REPO / "Dockerfile.gpu").read_text()
    assert re.search(r"^ARG VLLM_IMAGE=vllm/vllm-openai:v0\.32\.0$", text, re.M)
    assert re.search(r"^USER mailroute$", text, re.M) and re.search(r"^ENTRYPOINT \[\]$", text, re.M)
    command = dockerfile_cmd(REPO / "Dockerfile.gpu")
    assert "--pool=solo" in command
    parse_command(command, mailroute_cli)


def test_dockerignore_keeps_secrets_and_the_venv_out_of_the_build_context() -> None:
    ignored = set((REPO / ".dockerignore").read_text().split())
    assert {".env", ".venv", ".git", "secrets", "config", "tests"} <= ignored
    for folder in ("worker", "connectors", "rules", "admin", "migrations"):
        assert folder not in ignored


def served_metric_names(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> set[str]:
    """Every series name /metrics serves, queue depths included (a fake Redis answers LLEN)."""
    import redis
    from prometheus_client import generate_latest

    from worker.cli.db import upgrade
    from worker.db.session import session_factory
    from worker.db.telemetry import build_registry

    class FakeRedis:
        def llen(self, name: str) -> int:
            return 3

    monkeypatch.setattr(redis.Redis, "from_url", classmethod(lambda cls, *a, **k: FakeRedis()))
    url = f"sqlite:///{tmp_path / 'metrics.db'}"
    upgrade(url=url)
    registry = build_registry(session_factory(url), "redis://redis:6379/0", rules_error=lambda: None)
    text = generate_latest(registry).decode()
    names = set()
    for name, kind in re.findall(r"^# TYPE (\S+) (\S+)$", text, re.M):
        names.add(name)
        if kind == "histogram":
            names |= {f"{name}_bucket", f"{name}_count", f"{name}_sum"}
    return names


def test_prometheus_alerts_are_well_formed_and_use_served_metrics(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rules = yaml.safe_load((REPO / "deploy" / "prometheus-alerts.yml").read_text())["groups"][0]["rules"]
    served = served_metric_names(tmp_path, monkeypatch)
    assert "mailroute_queue_depth" in served and "mailroute_review_backlog" in served
    alerts = set()
    for rule in rules:
        assert set(rule) <= {"alert", "expr", "for", "labels", "annotations"}, rule
        assert rule["labels"]["severity"] in ("critical", "warning") and rule["annotations"]["summary"]
        used = set(re.findall(r"\b(mailroute_[a-z0-9_]+)", rule["expr"]))
        assert used <= served, f"{rule['alert']}: {used - served} not served by /metrics"
        alerts.add(rule["alert"])
    exprs = " ".join(rule["expr"] for rule in rules)
    for needed in ("mailroute_queue_depth", "mailroute_review_backlog", 'kind="webhook", status="dead"'):
        assert needed in exprs
    guide = (REPO / "docs" / "operations.md").read_text()
    assert not {a for a in alerts if a not in guide}, "every alert is explained in docs/operations.md"


def test_operations_guide_covers_every_service_and_is_linked_from_the_readme(compose: dict[str, Any]) -> None:
    guide = (REPO / "docs" / "operations.md").read_text()
    assert {name for name in compose["services"] if f"`{name}`" not in guide} == set()
    for topic in ("mailroute prune", "leases", "-Q", "rotat", "backup", "mails/day", "db upgrade"):
        assert topic in guide, topic


def test_readme_links_the_operations_guide() -> None:
    assert "docs/operations.md" in (REPO / "README.md").read_text()
