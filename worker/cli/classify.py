"""``mailroute classify FILE.eml|-``: score one mail against a rule set and show the decision."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from rules import load_rule_set
from worker.cli.common import BackendOption, JsonOption, RulesOption, quiet_libraries, settings_with
from worker.core.errors import InputError
from worker.parsing.message import parse_message


def read_input(path: str) -> bytes:
    if path == "-":
        return sys.stdin.buffer.read()
    file = Path(path)
    if not file.is_file():
        raise InputError(f"{path}: no such file")
    return file.read_bytes()


def classify_command(
    path: str = typer.Argument(..., help="An RFC 822 mail file, or - for standard input."),
    rules: Path | None = RulesOption,
    backend: str | None = BackendOption,
    as_json: bool = JsonOption,
) -> None:
    """Score one mail and print the ranked scores, the decision and its reasons."""
    quiet_libraries()
    raw = read_input(path)
    settings = settings_with(rules=rules, backend=backend)
    rule_set = load_rule_set(settings.rules_path)
    from worker.pipeline.route import route
    from worker.scoring.registry import create_scorer

    scorer = create_scorer(settings, cached=False, cascade_top_m=rule_set.policy.cascade_top_m)
    mail = parse_message(raw, max_chars=settings.max_chars)
    routed = route([mail], scorer, rule_set)[0]
    if routed.decision is None:
        raise InputError(routed.error or "decision failed")
    decision = routed.decision
    scores = {name: round(value, 6) for name, value in routed.scores.items()}
    ranked = dict(sorted(scores.items(), key=lambda kv: -kv[1]))
    out = {
        "subject": mail.subject,
        "model": scorer.model_id,
        "rule_set": rule_set.name,
        "scores": ranked,
        "decision": {
            "labels": list(decision.labels),
            "needs_review": decision.needs_review,
            "reasons": list(decision.reasons),
            "actions": [{"kind": a.kind, "target": a.target} for a in decision.actions],
        },
        "warnings": list(mail.warnings),
    }
    if as_json:
        print(json.dumps(out, ensure_ascii=False))
        return
    console = Console()
    table = Table(title=f"{mail.subject or '(no subject)'} — {rule_set.name}")
    table.add_column("category")
    table.add_column("score", justify="right")
    for name, value in ranked.items():
        table.add_row(name, f"{value:.3f}")
    console.print(table)
    verdict = "REVIEW" if decision.needs_review else "ROUTE"
    console.print(f"[bold]{verdict}[/bold] → {', '.join(decision.labels) or '(none)'}")
    for reason in decision.reasons:
        console.print(f"  • {reason}")


def register(app: typer.Typer) -> None:
    app.command("classify")(classify_command)
