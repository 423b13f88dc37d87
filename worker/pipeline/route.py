"""The one path from parsed mail to decision: score → decide → (learned gate), with every score kept.

Every caller goes through here — the live worker (:mod:`worker.pipeline.classify`), ``mailroute
classify``, evaluation, backtests and the shadow rule set, the review simulation and the admin's
playground — so they can never disagree about what a mail would be routed to. :func:`route` scores a
batch with the backend and decides each mail; :func:`route_scores` decides rows scored elsewhere (the
simulation blends learned memory into a precomputed matrix). The rule engine is called from
:func:`_decide_one` and nowhere else in the product.

A rule-engine failure on one mail never sinks the batch: that mail's :class:`Routed` carries the error
and no decision, so the caller can store it with its error.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np

from rules import Decision, MessageFacts, RuleSet, decide
from worker.core.errors import MailrouteError
from worker.db.telemetry import observe_scoring
from worker.learning.thresholds import LearnedThreshold, gate
from worker.parsing.message import ParsedMail
from worker.scoring.base import Scorer

LearnedGate = Mapping[str, LearnedThreshold]
SUBJECT_LEFT_OUT = "subject left out of the scored text: boilerplate"


@dataclass(frozen=True)
class Routed:
    """One mail's outcome: every category's score, the decision (or why there is none)."""

    scores: dict[str, float]
    decision: Decision | None
    error: str | None = None

    @property
    def predicted(self) -> str | None:
        """The first label decided or proposed for review, None when there is none."""
        return self.decision.labels[0] if self.decision is not None and self.decision.labels else None

    @property
    def confidence(self) -> float:
        """The top score: with learning on, the calibrated probability that the top label is right."""
        return max(self.scores.values(), default=0.0)

    @property
    def margin(self) -> float:
        """Top score minus the runner-up (the top score alone with one category)."""
        top = [*sorted(self.scores.values(), reverse=True), 0.0, 0.0]
        return top[0] - top[1]


def facts_of(parsed: ParsedMail, *, account: str = "", folder: str = "") -> MessageFacts:
    """What the rule conditions may look at, taken from a parsed mail (and where it was received)."""
    return MessageFacts(
        sender=parsed.sender,
        recipients=parsed.recipients,
        subject=parsed.subject,
        list_id=parsed.list_id,
        account=account,
        folder=folder,
        attachments=tuple((a.filename or "", a.content_type) for a in parsed.attachments),
        body=parsed.body_text,
    )


def route(
    mails: Sequence[ParsedMail],
    scorer: Scorer,
    rule_set: RuleSet,
    *,
    learned: LearnedGate | None = None,
    facts: Sequence[MessageFacts] | None = None,
    keep_subject: Sequence[bool] | None = None,
) -> list[Routed]:
    """Score ``mails`` against the rule set's labels in one backend call and decide each one.

    ``facts``: what conditions see per mail, when the caller knows more than the parse (the account
    and folder a stored mail came from); default :func:`facts_of` each mail. ``keep_subject``: per
    mail, whether its scored text keeps the subject (default all; a boilerplate subject is left out,
    :mod:`worker.store.boilerplate`, and the decision's reasons say so). A scoring error
    propagates (the batch has no scores); a decision error is kept per mail.
    """
    if not mails:
        return []
    bind = getattr(scorer, "bind_rule_set", None)
    if bind is not None:  # a learned scorer scores with the model of the rule set being routed
        bind(rule_set)
    started = time.perf_counter()
    keep = list(keep_subject) if keep_subject is not None else [True] * len(mails)
    texts = [mail.scored_text(keep_subject=k) for mail, k in zip(mails, keep, strict=True)]
    matrix = scorer.score(texts, rule_set.label_texts(), instruction=rule_set.instruction)
    observe_scoring(time.perf_counter() - started, mails=len(mails))
    known = list(facts) if facts is not None else [facts_of(mail) for mail in mails]
    routed = route_scores(matrix, known, rule_set, learned=learned)
    return [
        r if r.decision is None or text == mail.scoring_text else _noted(r, r.decision, SUBJECT_LEFT_OUT)
        for r, text, mail in zip(routed, texts, mails, strict=True)
    ]


def _noted(routed: Routed, decision: Decision, reason: str) -> Routed:
    return replace(routed, decision=replace(decision, reasons=(*decision.reasons, reason)))


def route_scores(
    matrix: np.ndarray | Sequence[Sequence[float]],
    facts: Sequence[MessageFacts],
    rule_set: RuleSet,
    *,
    learned: LearnedGate | None = None,
) -> list[Routed]:
    """Decide mails whose scores are already known (one row per mail, one column per category)."""
    names = rule_set.category_names()
    routed = []
    for row, mail_facts in zip(matrix, facts, strict=True):
        scores = {name: float(value) for name, value in zip(names, row, strict=True)}
        routed.append(_decide_one(scores, mail_facts, rule_set, learned))
    return routed


def _decide_one(
    scores: dict[str, float], facts: MessageFacts, rule_set: RuleSet, learned: LearnedGate | None
) -> Routed:
    try:
        decision = decide(scores, facts, rule_set)
        if learned:  # thresholds learned from reviews may hold back a label the rules passed
            decision = gate(decision, scores, learned)
    except (MailrouteError, ValueError) as e:  # a rule-engine bug must not sink the batch
        return Routed(scores, None, f"decision failed: {e}")
    return Routed(scores, decision)
