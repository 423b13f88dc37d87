"""``mailroute backtest --rules NEW.yaml``: what a changed rule set would decide, before it goes live.

Re-scores the stored mail (the ``--limit`` newest with a live decision) or, with ``--labeled PATH``,
a labeled set, under NEW.yaml and reports the flipped decisions, the review rate before and after,
and the accuracy where labels are known (reviewed mails; the gold labels of a labeled set). The
live rule set (``MAILROUTE_RULES_PATH``, or ``--against``) is never changed. ``--shadow`` saves the
new decisions as shadow decisions (``Decision.mode = 'shadow'``), which never act.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import typer

from worker.cli.common import BackendOption, JsonOption, quiet_libraries, settings_with


def _print_report(report: dict[str, Any], shown: int) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    rate, acc = report["review_rate"], report["accuracy"]
    console.print(
        f"[bold]{report['rule_set']}[/] on {report['n']} mails: {report['flipped']} decisions change "
        f"({report['label_flips']} change labels); review rate {rate['old']:.1%} → {rate['new']:.1%}"
    )
    if acc["n"]:
        console.print(f"accuracy on {acc['n']} labeled mails: {acc['old']:.3f} → {acc['new']:.3f}")
    table = Table("mail", "old labels", "new labels", "review", "known labels", title="flips")
    for flip in report["flips"][:shown]:
        review = f"{'yes' if flip['old_review'] else 'no'} → {'yes' if flip['new_review'] else 'no'}"
        truth = ", ".join(flip["truth"]) if flip["truth"] is not None else ""
        table.add_row(
            flip["key"], ", ".join(flip["old_labels"]), ", ".join(flip["new_labels"]), review, truth
        )
    console.print(table)
    if len(report["flips"]) > shown:
        console.print(f"… and {len(report['flips']) - shown} more (--json lists them all)")


def backtest_command(
    rules: Path = typer.Option(..., "--rules", "-r", help="The changed rule set to test."),
    against: Path | None = typer.Option(
        None, "--against", help="Compare with this rule set re-decided now (default: the stored decisions)."
    ),
    labeled: Path | None = typer.Option(None, "--labeled", help="Backtest on a labeled set instead."),
    fmt: str = typer.Option("enron-berkeley", "--format", "-f", help="--labeled: enron-berkeley | eml"),
    labels: Path | None = typer.Option(None, "--labels", help="--labeled eml: 'filename,label' CSV."),
    limit: int | None = typer.Option(None, "--limit", min=1, help="The N newest stored mails only."),
    shadow: bool = typer.Option(False, "--shadow", help="Save the new decisions as shadow decisions."),
    profile: str | None = typer.Option(
        None, "--profile", "-p", help="Stored mail of this routing profile only (default: all)."
    ),
    backend: str | None = BackendOption,
    as_json: bool = JsonOption,
    shown: int = typer.Option(20, "--show", help="Flips listed in the table."),
) -> None:
    """Re-decide stored (or labeled) mail under a changed rule set and report what would change."""
    from rules import load_rule_set
    from worker.core.errors import InputError
    from worker.evaluation import backtest
    from worker.learning.live import with_learning
    from worker.scoring.registry import create_scorer, learns_from_reviews

    quiet_libraries()
    settings = settings_with(backend=backend)
    new_rules = load_rule_set(rules)
    old_rules = load_rule_set(against) if against is not None else None
    scorer = create_scorer(settings, cached=False, cascade_top_m=new_rules.policy.cascade_top_m)
    if settings.few_shot and learns_from_reviews(settings.backend):
        scorer = with_learning(scorer, settings, lambda: new_rules)
    if labeled is not None:
        if shadow:
            raise InputError("--shadow records decisions of stored mail; it cannot be used with --labeled")
        from worker.evaluation.datasets import load_labeled
        from worker.evaluation.labeled import sample

        mails = sample(load_labeled(labeled, fmt, labels_file=labels), limit)
        live = old_rules or load_rule_set(settings.rules_path)
        report = backtest.backtest_labeled(
            mails, scorer, new_rules, live, max_chars=settings.max_chars, batch_size=settings.batch_size
        )
    else:
        from worker.db.session import session_scope

        with session_scope(settings.database_url) as session:
            report = backtest.backtest_stored(
                session,
                scorer,
                new_rules,
                against=old_rules,
                limit=limit,
                shadow=shadow,
                max_chars=settings.max_chars,
                profile=profile,
                boilerplate_min=settings.subject_boilerplate_min,
            )
    out = report.to_dict()
    out["shadow_recorded"] = shadow
    if as_json:
        sys.stdout.write(json.dumps(out) + "\n")
    else:
        _print_report(out, shown)


def register(app: typer.Typer) -> None:
    app.command("backtest")(backtest_command)
