"""Write a batch's results in a handful of statements: scores, decisions, outbox rows, message rows.

Bulk INSERTs (executemany with RETURNING for the action ids) and one bulk UPDATE by primary key keep
the cost per mail to a fraction of a millisecond, which is what lets a 2-core box decide hundreds of
mails a second around the model.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Table
from sqlalchemy.orm import Session

from rules import ActionSpec, RuleSet
from rules import Decision as RuleDecision
from worker.db.models import Action, Decision, MessageStatus, Score, new_key
from worker.parsing.message import ParsedMail
from worker.pipeline.messagecolumns import MARK_DECIDED, parsed_columns

# Core statements on the tables, not the ORM's bulk paths: the rows are plain dicts and no ORM object
# of them is in the session. py-spy put the ORM's bulk INSERT/UPDATE at about a third of a classify
# task; with the boilerplate count in SQL, the step's CPU per mail fell ~20 % (bench/classify_cpu.py).
SCORES: Table = Score.__table__  # type: ignore[assignment]
DECISIONS: Table = Decision.__table__  # type: ignore[assignment]
ACTIONS: Table = Action.__table__  # type: ignore[assignment]


@dataclass(frozen=True)
class Outcome:
    """Everything decided about one message, ready to be written."""

    message_id: int
    parsed: ParsedMail
    warnings: list[str]
    scores: dict[str, float]
    decision: RuleDecision


def category_of(spec: ActionSpec, decision: RuleDecision, rule_set: RuleSet) -> str | None:
    """The decided category whose action list holds ``spec`` (first match)."""
    for category in rule_set.categories:
        if category.name in decision.labels and spec in category.actions:
            return category.name
    return None


def write_outcomes(
    session: Session,
    outcomes: list[Outcome],
    rule_set: RuleSet,
    model_id: str,
    *,
    max_chars: int,
    version: int | None = None,
    learned_version: int | None = None,
) -> dict[int, str]:
    """Insert scores, decisions and actions, mark the messages decided; returns {action id: kind}.

    ``version`` is the published rule-set version the decisions were made with (None: unversioned);
    ``learned_version``: the rule set's learned-model version that scored the batch (0: the prior).
    """
    if not outcomes:
        return {}
    now = datetime.now(UTC)
    common = {"model_id": model_id, "rule_set_hash": rule_set.digest}
    score_rows = [
        {
            "message_id": o.message_id,
            "label": label,
            "score": value,
            "template_hash": rule_set.template_digest,
            "created_at": now,
            **common,
        }
        for o in outcomes
        for label, value in o.scores.items()
    ]
    decision_rows = []
    for o in outcomes:
        ranked = [*sorted(o.scores.values(), reverse=True), 0.0, 0.0]
        decision_rows.append(
            {
                "message_id": o.message_id,
                "mode": "live",
                "rule_set_name": rule_set.name,
                "rule_set_version": version,
                "labels": list(o.decision.labels),
                "needs_review": o.decision.needs_review,
                "review_state": "pending" if o.decision.needs_review else "none",
                "reasons": list(o.decision.reasons),
                "top_score": ranked[0],
                "margin": ranked[0] - ranked[1],
                "learned_version": learned_version,
                "created_at": now,
                **common,
            }
        )
    action_rows = [
        {
            "message_id": o.message_id,
            "kind": spec.kind,
            "target": spec.target,
            "params": dict(spec.params),
            "category": category_of(spec, o.decision, rule_set),
            "desired": "present",
            "key": new_key(),
            "status": "pending",
            "attempts": 0,
            "created_at": now,
            "updated_at": now,
        }
        for o in outcomes
        for spec in o.decision.actions
    ]
    if score_rows:
        session.execute(SCORES.insert(), score_rows)
    session.execute(DECISIONS.insert(), decision_rows)
    inserted: list[Any] = []
    if action_rows:
        inserted = list(
            session.execute(ACTIONS.insert().returning(ACTIONS.c.id, ACTIONS.c.kind), action_rows)
        )
    session.execute(
        MARK_DECIDED,
        [
            {
                "row_id": o.message_id,
                "status": MessageStatus.DECIDED,
                "error": None,
                "decided_at": now,
                **parsed_columns(o.parsed, o.warnings, max_chars),
            }
            for o in outcomes
        ],
    )
    return {id_: kind for id_, kind in inserted}
