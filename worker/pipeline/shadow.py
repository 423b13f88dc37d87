"""Shadow mode: a candidate rule set decides every live mail beside the live one, and never acts.

With ``MAILROUTE_SHADOW_RULES_PATH`` set, the classify task calls :func:`run_shadow` after each batch;
the shadow decisions are ``Decision(mode="shadow")`` rows (one per message, replaced on a re-run) that
backtests and the admin compare with the live ones. A shadow failure is logged and never touches live
routing.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from rules import Decision as RuleDecision
from rules import RuleSet, load_rule_set
from worker.core.errors import InputError
from worker.db.models import Decision, Message
from worker.parsing.message import ParsedMail, parse_message
from worker.pipeline.route import route
from worker.scoring.base import Scorer
from worker.store.boilerplate import DEFAULT_MIN_SHARED, keep_subjects

log = logging.getLogger(__name__)


def parse_stored(
    session: Session,
    ids: Sequence[int],
    raws: Sequence[bytes],
    profiles: Sequence[str],
    *,
    max_chars: int,
    boilerplate_min: int,
) -> tuple[list[ParsedMail], list[bool]]:
    """Stored messages ``ids`` (``raws`` of ``profiles``) parsed as classify parses them, and whether
    each keeps its subject in the scored text (a subject that is boilerplate in its profile does not,
    as live classification decides: :func:`worker.store.boilerplate.keep_subjects`)."""
    parsed = [parse_message(raw, max_chars=max_chars) for raw in raws]
    subjects = [p.subject for p in parsed]
    keep = keep_subjects(session, list(ids), subjects, list(profiles), min_shared=boilerplate_min)
    return parsed, keep


def route_parsed(
    scorer: Scorer, rule_set: RuleSet, parsed: Sequence[ParsedMail], keep: Sequence[bool]
) -> list[tuple[RuleDecision, dict[str, float]]]:
    """Route parsed stored mails; (decision, scores) per mail. A decision error raises."""
    out = []
    for routed in route(list(parsed), scorer, rule_set, keep_subject=list(keep)):
        if routed.decision is None:
            raise InputError(routed.error or "decision failed")
        out.append((routed.decision, routed.scores))
    return out


def record_shadow(
    session: Session,
    message_ids: Sequence[int],
    decided: Sequence[tuple[RuleDecision, dict[str, float]]],
    rule_set: RuleSet,
    model_id: str,
) -> None:
    """Save shadow decisions (replacing earlier ones of these messages); never any action."""
    if not message_ids:
        return
    session.execute(
        delete(Decision).where(Decision.message_id.in_(list(message_ids)), Decision.mode == "shadow")
    )
    now = datetime.now(UTC)
    rows = []
    for message_id, (decision, scores) in zip(message_ids, decided, strict=True):
        ranked = [*sorted(scores.values(), reverse=True), 0.0, 0.0]
        rows.append(
            {
                "message_id": message_id,
                "mode": "shadow",
                "rule_set_name": rule_set.name,
                "rule_set_hash": rule_set.digest,
                "model_id": model_id,
                "labels": list(decision.labels),
                "needs_review": decision.needs_review,
                "review_state": "none",
                "reasons": list(decision.reasons),
                "top_score": ranked[0],
                "margin": ranked[0] - ranked[1],
                "created_at": now,
            }
        )
    session.execute(insert(Decision), rows)


def shadow_batch(
    session: Session,
    ids: Sequence[int],
    scorer: Scorer,
    rule_set: RuleSet,
    *,
    max_chars: int = 4000,
    boilerplate_min: int = DEFAULT_MIN_SHARED,
) -> int:
    """Decide ``ids`` under a shadow rule set beside the live one (the pipeline calls this); a
    boilerplate subject is left out of the scored text as live."""
    query = select(Message.id, Message.raw, Message.profile).where(Message.id.in_(list(ids)))
    rows = session.execute(query).all()
    parsed, keep = parse_stored(
        session,
        [row[0] for row in rows],
        [row[1] for row in rows],
        [row[2] for row in rows],
        max_chars=max_chars,
        boilerplate_min=boilerplate_min,
    )
    decided = route_parsed(scorer, rule_set, parsed, keep)
    record_shadow(session, [row[0] for row in rows], decided, rule_set, scorer.model_id)
    return len(rows)


def run_shadow(message_ids: Sequence[int], rules_path: Path) -> int:
    """Decide freshly decided mails under the shadow rule set, in its own transaction.

    A shadow failure is logged and never touches live routing.
    """
    from worker.db.session import session_scope
    from worker.pipeline.runtime import get_runtime

    runtime = get_runtime()
    try:
        shadow = load_rule_set(rules_path)
        with session_scope() as session:
            return shadow_batch(
                session,
                message_ids,
                runtime.scorer,
                shadow,
                max_chars=runtime.settings.max_chars,
                boilerplate_min=runtime.settings.subject_boilerplate_min,
            )
    except Exception:
        log.exception("shadow rule set %s failed on %d mails", rules_path, len(message_ids))
        return 0
