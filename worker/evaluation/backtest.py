"""Backtests: what a changed rule set would decide, measured before it goes live.

:func:`backtest_stored` re-scores stored mail (classify's parse → score → ``rules.decide``, nothing
written to the live decisions) with a new rule set and compares with what was decided: the live
decision as first made (a reviewed mail's first ``Correction.old_labels``, else ``Decision.labels``),
or, with ``against``, the same mails re-decided now under another rule set (which isolates the rule
change from model or memory drift). Reviewed mails give the truth (their labels after review), so
accuracy is reported where it is known. With ``shadow=True`` the new decisions are saved as
``Decision(mode="shadow")`` rows (one per message, replaced on a re-run) and never create actions.
:func:`backtest_labeled` does the same on a labeled set through ``worker.evaluation.evaluate.predict``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from rules import Decision as RuleDecision
from rules import RuleSet
from worker.db.models import Correction, Decision, Message

# moved out, used here and still imported from here: the report and its flips
from worker.evaluation.backtest_report import BacktestReport as BacktestReport
from worker.evaluation.backtest_report import Flip as Flip
from worker.evaluation.evaluate import predict
from worker.evaluation.labeled import LabeledMail
from worker.pipeline.shadow import parse_stored, record_shadow, route_parsed
from worker.scoring.base import Scorer
from worker.store.boilerplate import DEFAULT_MIN_SHARED

REVIEWED = ("approved", "corrected")

log = logging.getLogger(__name__)


def backtest_stored(
    session: Session,
    scorer: Scorer,
    rule_set: RuleSet,
    *,
    against: RuleSet | None = None,
    limit: int | None = None,
    shadow: bool = False,
    max_chars: int = 4000,
    batch: int = 256,
    profile: str | None = None,
    boilerplate_min: int = DEFAULT_MIN_SHARED,
) -> BacktestReport:
    """Re-decide the stored mails that have a live decision (the ``limit`` newest; of routing profile
    ``profile`` when given) under ``rule_set``, on the text live classification scores (a boilerplate
    subject of the mail's profile left out, ``boilerplate_min`` as in the pipeline)."""
    query = select(Message.id).join(Decision, (Decision.message_id == Message.id) & (Decision.mode == "live"))
    if profile is not None:
        query = query.where(Message.profile == profile)
    ids = sorted(session.scalars(query.order_by(Message.id.desc()).limit(limit)))
    report = BacktestReport(rule_set.name, rule_set.digest)
    for start in range(0, len(ids), batch):
        chunk = ids[start : start + batch]
        rows = session.execute(
            select(Message.id, Message.raw, Decision, Message.profile)
            .join(Decision, (Decision.message_id == Message.id) & (Decision.mode == "live"))
            .where(Message.id.in_(chunk))
            .order_by(Message.id)
        ).all()
        first_old = _first_reviews(session, chunk)
        parsed, keep = parse_stored(  # once for both rule sets
            session,
            [row[0] for row in rows],
            [row[1] for row in rows],
            [row[3] for row in rows],
            max_chars=max_chars,
            boilerplate_min=boilerplate_min,
        )
        new = route_parsed(scorer, rule_set, parsed, keep)
        old = route_parsed(scorer, against, parsed, keep) if against is not None else None
        for i, (message_id, _, live, _) in enumerate(rows):
            truth = tuple(live.labels) if live.review_state in REVIEWED else None
            if old is not None:
                before = (old[i][0].labels, old[i][0].needs_review)
            else:
                before = (tuple(first_old.get(message_id, live.labels)), bool(live.needs_review))
            report.add(str(message_id), before, new[i][0], truth)
        if shadow:
            record_shadow(session, [row[0] for row in rows], new, rule_set, scorer.model_id)
    return report


def _first_reviews(session: Session, ids: Sequence[int]) -> dict[int, list[str]]:
    """The labels each reviewed message was first decided with (before any review changed them)."""
    found: dict[int, list[str]] = {}
    query = select(Correction.message_id, Correction.old_labels).where(Correction.message_id.in_(list(ids)))
    for message_id, old in session.execute(query.order_by(Correction.id)):
        found.setdefault(message_id, list(old or []))
    return found


def backtest_labeled(
    mails: Sequence[LabeledMail],
    scorer: Scorer,
    rule_set: RuleSet,
    against: RuleSet,
    *,
    max_chars: int = 4000,
    batch_size: int = 32,
) -> BacktestReport:
    """A labeled set decided under ``against`` (the live rules) and ``rule_set``; gold is the truth."""
    before = predict(mails, scorer, against, max_chars=max_chars, batch_size=batch_size, progress=False)
    after = predict(mails, scorer, rule_set, max_chars=max_chars, batch_size=batch_size, progress=False)
    report = BacktestReport(rule_set.name, rule_set.digest)
    for old, new in zip(before, after, strict=True):
        decision = RuleDecision(tuple(new["labels"]), (), new["needs_review"], ())
        report.add(old["key"], (tuple(old["labels"]), old["needs_review"]), decision, (old["gold"],))
    return report
