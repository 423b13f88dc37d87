"""Deciding one group of a classify batch with one rule set: parse → follow threads → route → save.

The rows of a group share a rule set (a profile's, or the batch's one): their mails are parsed, a
reply in a routed thread follows its thread without scoring, a profile's boilerplate subject is left
out of the scored text, the rest is scored and decided in one :func:`~worker.pipeline.route.route`
call, and the outcomes are written with their outbox rows. The time of each step goes into the
batch's :class:`BatchResult`.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from rules import RuleSet
from worker.db.models import DEFAULT_PROFILE, Message
from worker.learning.memory import record
from worker.learning.thresholds import LearnedThreshold
from worker.parsing.message import parse_message
from worker.pipeline.outcomes import Outcome, write_outcomes
from worker.pipeline.pending import mark_failed
from worker.pipeline.route import facts_of, route
from worker.pipeline.threads import follow_threads
from worker.scoring.base import Scorer
from worker.store.boilerplate import keep_subjects


@dataclass
class BatchResult:
    decided: list[int] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)
    failed: dict[int, str] = field(default_factory=dict)
    action_kinds: dict[int, str] = field(default_factory=dict)  # new outbox rows: id -> kind
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def action_ids(self) -> list[int]:
        return list(self.action_kinds)


def _decide_group(
    session: Session,
    rows: list[tuple[int, bytes, list[str]]],
    origins: Mapping[int, tuple[str, str, str]],
    scorer: Scorer,
    rule_set: RuleSet,
    version: int | None,
    learned: Mapping[str, LearnedThreshold] | None,
    limits: tuple[int, int],
    result: BatchResult,
) -> None:
    """``limits``: (max_chars, boilerplate_min)."""
    max_chars, boilerplate_min = limits
    started = time.perf_counter()
    parsed = [parse_message(raw, max_chars=max_chars) for _, raw, _ in rows]
    unknown = ("", "", DEFAULT_PROFILE)
    facts = [
        facts_of(mail, account=origins.get(row[0], unknown)[0], folder=origins.get(row[0], unknown)[1])
        for row, mail in zip(rows, parsed, strict=True)
    ]
    _add_time(result, "parse_s", started)
    t_score = time.perf_counter()
    followed = follow_threads(session, [row[0] for row in rows], parsed, rule_set)  # replies: no scoring
    rest = [i for i in range(len(parsed)) if i not in followed]
    keep = keep_subjects(
        session,
        [rows[i][0] for i in rest],
        [parsed[i].subject for i in rest],
        [origins.get(rows[i][0], unknown)[2] for i in rest],
        min_shared=boilerplate_min,
    )
    # A scoring error propagates: the caller rolls back and calls record_batch_failure.
    fresh = route(
        [parsed[i] for i in rest],
        scorer,
        rule_set,
        learned=learned,
        facts=[facts[i] for i in rest],
        keep_subject=keep,
    )
    take = getattr(scorer, "take_decided", None)  # a LearnedScorer: the batch's vectors, to remember
    decided = take() if take is not None and rest else None
    scored = iter(fresh)
    routed = [followed[i] if i in followed else next(scored) for i in range(len(parsed))]
    _add_time(result, "score_s", t_score)
    t_save = time.perf_counter()
    outcomes = []
    for (message_id, _, warnings), mail, outcome in zip(rows, parsed, routed, strict=True):
        if outcome.decision is None:
            message = session.get(Message, message_id)
            if message is not None:
                mark_failed(message, outcome.error or "decision failed")
            result.failed[message_id] = outcome.error or "decision failed"
            continue
        outcomes.append(Outcome(message_id, mail, warnings, outcome.scores, outcome.decision))
    kinds = write_outcomes(
        session,
        outcomes,
        rule_set,
        scorer.model_id,
        max_chars=max_chars,
        version=version,
        learned_version=getattr(scorer, "last_version", None),  # a LearnedScorer says which model decided
    )
    if decided is not None and len(decided[1]) == len(rest):
        columns, vectors, probs, keep = decided
        kept = [j for j, i in enumerate(rest) if routed[i].decision is not None]
        ids = [rows[rest[j]][0] for j in kept]
        record(session, rule_set.name, columns, ids, vectors[kept], probs[kept], keep=keep)
    result.action_kinds.update(kinds)
    result.decided.extend(o.message_id for o in outcomes)
    _add_time(result, "save_s", t_save)


def _add_time(result: BatchResult, key: str, since: float) -> None:
    result.timings[key] = result.timings.get(key, 0.0) + time.perf_counter() - since
