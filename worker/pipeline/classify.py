"""Classify a batch of stored messages: parse → :func:`~worker.pipeline.route.route` → save scores,
decision and outbox — with one rule set (:func:`classify_batch`) or each mail's profile's
(:func:`classify_profiles`).

Plain functions over a session; the Celery task is a thin wrapper. A message already decided is
skipped (never scored twice); rows are locked with SKIP LOCKED on Postgres so two workers given the
same ids never both decide them; the unique decision constraint is the last guard.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from rules import RuleSet
from worker.db.models import DEFAULT_PROFILE, Message, MessageStatus
from worker.learning.thresholds import LearnedThreshold
from worker.parsing.message import parse_message
from worker.pipeline.outcomes import Outcome, write_outcomes
from worker.pipeline.profiles import ProfileResolver
from worker.pipeline.route import facts_of, route
from worker.pipeline.threads import follow_threads
from worker.scoring.base import Scorer
from worker.store.boilerplate import DEFAULT_MIN_SHARED, keep_subjects

log = logging.getLogger(__name__)


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


def load_pending(session: Session, ids: Sequence[int]) -> list[Message]:
    """The messages among ``ids`` that still need a decision, locked for this transaction."""
    query = (
        select(Message)
        .where(Message.id.in_(list(ids)), Message.status != MessageStatus.DECIDED)
        .order_by(Message.id)
        .with_for_update(skip_locked=True)
    )
    return list(session.scalars(query))


def load_pending_rows(session: Session, ids: Sequence[int]) -> list[tuple[int, bytes, list[str]]]:
    """(id, raw, warnings) of the messages among ``ids`` that still need a decision, locked."""
    query = (
        select(Message.id, Message.raw, Message.parse_warnings)
        .where(Message.id.in_(list(ids)), Message.status != MessageStatus.DECIDED)
        .order_by(Message.id)
        .with_for_update(skip_locked=True)
    )
    return [(id_, raw, list(warnings or [])) for id_, raw, warnings in session.execute(query)]


def classify_batch(
    session: Session,
    ids: Sequence[int],
    scorer: Scorer,
    rule_set: RuleSet,
    *,
    max_chars: int = 4000,
    learned: Mapping[str, LearnedThreshold] | None = None,
    boilerplate_min: int = DEFAULT_MIN_SHARED,
) -> BatchResult:
    """Decide every pending message among ``ids`` with ``rule_set``; the caller commits.

    ``boilerplate_min``: a subject at least this many recent mails of the profile share is left out
    of the scored text (:mod:`worker.store.boilerplate`; 0: never)."""
    result = BatchResult()
    rows = _pending(session, ids, result)
    if rows:
        origins = origins_of(session, [row[0] for row in rows])
        limits = (max_chars, boilerplate_min)
        _decide_group(session, rows, origins, scorer, rule_set, None, learned, limits, result)
    return result


def classify_profiles(
    session: Session,
    ids: Sequence[int],
    scorer: Scorer,
    profiles: ProfileResolver,
    *,
    max_chars: int = 4000,
    learned_for: Callable[[RuleSet], Mapping[str, LearnedThreshold]] | None = None,
    boilerplate_min: int = DEFAULT_MIN_SHARED,
) -> BatchResult:
    """Decide every pending message among ``ids`` by its own profile's live rule set.

    A batch that mixes folders is split by profile: one :func:`route` call per profile, with that
    profile's labels, thresholds, actions and learned thresholds; each decision records the rule
    set's name and published version. ``boilerplate_min`` as in :func:`classify_batch`. The caller
    commits.
    """
    result = BatchResult()
    rows = _pending(session, ids, result)
    if not rows:
        return result
    owners = origins_of(session, [row[0] for row in rows])
    groups: dict[str, list[tuple[int, bytes, list[str]]]] = {}
    for row in rows:
        groups.setdefault(owners[row[0]][2] if row[0] in owners else DEFAULT_PROFILE, []).append(row)
    # every rule set resolved before anything is written: a bootstrap writes in its own transaction,
    # which SQLite would make wait behind this one's write lock
    live_sets = {profile: profiles(profile, session) for profile in sorted(groups)}
    for profile, group in sorted(groups.items()):
        live = live_sets[profile]
        learned = learned_for(live.rule_set) if learned_for is not None else None
        limits = (max_chars, boilerplate_min)
        _decide_group(session, group, owners, scorer, live.rule_set, live.version, learned, limits, result)
    return result


def origins_of(session: Session, ids: Sequence[int]) -> dict[int, tuple[str, str, str]]:
    """(account, folder, routing profile) of each message among ``ids``."""
    query = select(Message.id, Message.account, Message.folder, Message.profile).where(
        Message.id.in_(list(ids))
    )
    return {id_: (account, folder, profile) for id_, account, folder, profile in session.execute(query)}


def _pending(session: Session, ids: Sequence[int], result: BatchResult) -> list[tuple[int, bytes, list[str]]]:
    rows = load_pending_rows(session, ids)
    result.skipped = sorted(set(ids) - {row[0] for row in rows})
    return rows


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
    result.action_kinds.update(kinds)
    result.decided.extend(o.message_id for o in outcomes)
    _add_time(result, "save_s", t_save)


def _add_time(result: BatchResult, key: str, since: float) -> None:
    result.timings[key] = result.timings.get(key, 0.0) + time.perf_counter() - since


def mark_failed(message: Message, error: str) -> None:
    """Keep the error on the row; the message stays retryable."""
    message.status = MessageStatus.FAILED
    message.error = error[:4000]
    message.attempts = (message.attempts or 0) + 1
    log.warning("message %s failed: %s", message.id, error, extra={"message_id": message.id})


def record_batch_failure(session: Session, ids: Sequence[int], error: BaseException) -> list[int]:
    """After a failed batch (rolled back), keep the error on every undecided message of it."""
    text = f"{type(error).__name__}: {error}"
    failed = []
    for message in load_pending(session, ids):
        mark_failed(message, text)
        failed.append(message.id)
    return failed
