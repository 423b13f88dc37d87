"""``mailroute eval``: measure a rule set and backend on a labeled mail set.

Stdout carries the result only (one JSON object with ``--json``, else a short table); progress and
logs go to stderr, so ``mailroute eval ... --json | jq .macro_f1`` works.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import typer

from worker.cli.common import BackendOption, JsonOption, RulesOption, quiet_libraries, settings_with


def _print_table(report: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    console.print(
        f"[bold]{report['rule_set']}[/] on {report['n']} mails with {report['model_id']}: "
        f"accuracy {report['accuracy']:.3f}, macro-F1 {report['macro_f1']:.3f}, "
        f"multi-label accuracy {report['multi_label_accuracy']:.3f}"
    )
    labels = Table("label", "precision", "recall", "F1", "support")
    for name, row in report["per_label"].items():
        labels.add_row(
            name, f"{row['precision']:.3f}", f"{row['recall']:.3f}", f"{row['f1']:.3f}", str(row["support"])
        )
    console.print(labels)
    coverage = Table("coverage", "accuracy", "min margin", title="auto-routing the most confident mails")
    for row in report["coverage"]:
        coverage.add_row(f"{row['coverage']:.0%}", f"{row['accuracy']:.3f}", f"{row['min_confidence']:.3f}")
    console.print(coverage)
    review = report["review"]
    console.print(
        f"rule-set policy: {review['auto_routed']:.0%} routed automatically, "
        f"accuracy {review['auto_accuracy']:.3f}; {report['mails_per_s']:.1f} mails/s"
    )


def eval_command(
    path: Path = typer.Argument(..., help="Labeled set: a Berkeley Enron tree or a folder of .eml files."),
    fmt: str = typer.Option(
        "enron-berkeley",
        "--format",
        "-f",
        help="enron-berkeley | eml | csv (columns text,label[,subject]; empty label = fits none)",
    ),
    labels: Path | None = typer.Option(None, "--labels", help="eml: CSV lines 'filename,label[;label2]'."),
    rules: Path | None = RulesOption,
    backend: str | None = BackendOption,
    as_json: bool = JsonOption,
    report_path: Path | None = typer.Option(None, "--report", help="Write the full report (JSON) here."),
    confusion: Path | None = typer.Option(None, "--confusion", help="Write the confusion matrix PNG here."),
    limit: int | None = typer.Option(
        None, "--limit", min=1, help="Evaluate N mails only, spread over the set."
    ),
    simulate_review: int | None = typer.Option(
        None,
        "--simulate-review",
        min=0,
        help="Replay the set in time order, reviewing the first N mails per label (the learned classifier); "
        "report the learning curve (see worker/evaluation/simulate.py).",
    ),
) -> None:
    """Score a labeled mail set through the pipeline; report accuracy, macro-F1 and coverage."""
    from rules import load_rule_set
    from worker.evaluation.datasets import load_labeled
    from worker.evaluation.evaluate import evaluate
    from worker.evaluation.labeled import sample
    from worker.evaluation.metrics import plot_confusion
    from worker.scoring.registry import create_scorer, learns_from_reviews

    quiet_libraries()
    settings = settings_with(rules=rules, backend=backend)
    rule_set = load_rule_set(settings.rules_path)
    mails = sample(load_labeled(path, fmt, labels_file=labels), limit)
    scorer = create_scorer(settings, cached=False)
    if settings.few_shot and learns_from_reviews(settings.backend) and simulate_review is None:
        from worker.learning.live import with_learning

        scorer = with_learning(scorer, settings, lambda: rule_set)  # the live learned model, as routed
    if simulate_review is not None:
        from worker.evaluation.simulate import format_curve
        from worker.evaluation.simulate import simulate_review as simulate

        curve = simulate(mails, scorer, rule_set, simulate_review, max_chars=settings.max_chars)
        curve.update({"dataset": str(path), "format": fmt, "backend": settings.backend})
        sys.stdout.write(json.dumps(curve) + "\n" if as_json else "\n".join(format_curve(curve)) + "\n")
        return
    report = evaluate(
        mails,
        scorer,
        rule_set,
        max_chars=settings.max_chars,
        batch_size=settings.batch_size,
        progress=True,
        boilerplate_min=settings.subject_boilerplate_min,
    )
    report.update({"dataset": str(path), "format": fmt, "backend": settings.backend})
    if report_path is not None:
        report_path.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    if confusion is not None:
        plot_confusion(report, confusion, title=rule_set.name)
    if as_json:
        summary = {k: v for k, v in report.items() if k != "predictions"}
        sys.stdout.write(json.dumps(summary) + "\n")
    else:
        _print_table(report)


def register(app: typer.Typer) -> None:
    app.command("eval")(eval_command)
