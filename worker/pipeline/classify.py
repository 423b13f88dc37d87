"""Classify a batch of stored messages: parse → :func:`~worker.pipeline.route.route` → save scores,
decision and outbox — with one rule set (:func:`classify_batch`) or each mail's profile's
(:func:`classify_profiles`).

Plain functions over a session; the Celery task is a thin wrapper. A message already decided is
skipped (never scored twice); rows are locked with SKIP LOCKED on Postgres so two workers given the
same ids never both decide them; the unique decision constraint is the last guard. Deciding one
group of rows is :mod:`worker.pipeline.decide`; loading them and keeping failures,
:mod:`worker.pipeline.pending`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from sqlalchemy.orm import Session

from rules import RuleSet
from worker.db.models import DEFAULT_PROFILE
from worker.learning.thresholds import LearnedThreshold

# re-exported (moved out, still imported from here): BatchResult, the pending rows and failures
from worker.pipeline.decide import BatchResult as BatchResult
from worker.pipeline.decide import _decide_group
from worker.pipeline.pending import load_pending as load_pending
from worker.pipeline.pending import load_pending_rows as load_pending_rows
from worker.pipeline.pending import mark_failed as mark_failed
from worker.pipeline.pending import origins_of as origins_of
from worker.pipeline.pending import record_batch_failure as record_batch_failure
from worker.pipeline.profiles import ProfileResolver
from worker.scoring.base import Scorer
from worker.store.boilerplate import DEFAULT_MIN_SHARED


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


def _pending(session: Session, ids: Sequence[int], result: BatchResult) -> list[tuple[int, bytes, list[str]]]:
    rows = load_pending_rows(session, ids)
    result.skipped = sorted(set(ids) - {row[0] for row in rows})
    return rows
