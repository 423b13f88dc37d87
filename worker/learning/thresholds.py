"""Per-label auto-routing thresholds learned from the reviewed history (pure functions).

Each reviewed mail whose proposed labels held label L gives one pair for L: (L's score, whether the
reviewer kept L). Routing L automatically at ``score >= t`` has the precision of the pairs at or above
``t``; the learned threshold is the lowest ``t`` whose precision reaches the rule set's
``policy.target_precision``. A label with fewer than ``min_examples`` pairs keeps its configured
threshold; one whose pairs never reach the target gets 1.0 (nothing auto-routes: the data says it
cannot be trusted yet). Every result carries the data behind it, for the admin.

The engine's thresholds decide which label is *chosen*; a learned threshold decides whether the
choice is *acted on*: :func:`gate` sends a decision to review when its label scores below it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from rules import Decision, RuleSet

NEVER = 1.0  # a threshold no reviewed score reached the target at


@dataclass(frozen=True)
class CurvePoint:
    """Routing at ``score >= threshold``: ``n`` reviewed mails pass, with this precision."""

    threshold: float
    precision: float
    n: int


@dataclass(frozen=True)
class LearnedThreshold:
    label: str
    threshold: float  # the one to use
    configured: float
    source: str  # "learned" | "configured" (too few examples) | "no target"
    target: float | None
    n: int  # reviewed pairs
    n_correct: int
    precision: float | None  # of the pairs at or above ``threshold``
    curve: tuple[CurvePoint, ...]

    @property
    def learned(self) -> bool:
        return self.source == "learned"


def precision_curve(pairs: Sequence[tuple[float, bool]]) -> tuple[CurvePoint, ...]:
    """Precision of routing at each distinct score, highest score first."""
    ordered = sorted(pairs, key=lambda pair: -pair[0])
    points: list[CurvePoint] = []
    correct = 0
    for i, (score, ok) in enumerate(ordered):
        correct += bool(ok)
        if i + 1 < len(ordered) and ordered[i + 1][0] == score:
            continue  # equal scores pass or fail together
        points.append(CurvePoint(float(score), correct / (i + 1), i + 1))
    return tuple(points)


def learn_threshold(
    label: str,
    pairs: Sequence[tuple[float, bool]],
    *,
    target: float | None,
    configured: float,
    min_examples: int,
) -> LearnedThreshold:
    """The threshold for ``label`` from its (score, kept) pairs; see the module docstring."""
    curve = precision_curve(pairs)
    n_correct = sum(bool(ok) for _, ok in pairs)

    def result(threshold: float, source: str, precision: float | None) -> LearnedThreshold:
        return LearnedThreshold(
            label, threshold, configured, source, target, len(pairs), n_correct, precision, curve
        )

    if target is None or len(pairs) < min_examples:
        above = [p for p in curve if p.threshold >= configured]
        precision = above[-1].precision if above else None
        return result(configured, "no target" if target is None else "configured", precision)
    reaching = [p for p in curve if p.precision >= target]
    if not reaching:
        return result(NEVER, "learned", None)
    lowest = min(reaching, key=lambda p: p.threshold)
    return result(lowest.threshold, "learned", lowest.precision)


def learn_thresholds(
    pairs: Mapping[str, Sequence[tuple[float, bool]]],
    rule_set: RuleSet,
    *,
    min_examples: int,
    target: float | None = None,
) -> dict[str, LearnedThreshold]:
    """One result per category of ``rule_set`` (target: ``policy.target_precision`` unless given)."""
    goal = rule_set.policy.target_precision if target is None else target
    return {
        c.name: learn_threshold(
            c.name,
            pairs.get(c.name, ()),
            target=goal,
            configured=rule_set.policy.threshold_for(c.threshold),
            min_examples=min_examples,
        )
        for c in rule_set.categories
    }


def gate(
    decision: Decision, scores: Mapping[str, float], thresholds: Mapping[str, LearnedThreshold]
) -> Decision:
    """``decision``, sent to review when one of its labels scores below its learned threshold."""
    if decision.needs_review:
        return decision
    low = [
        (name, thresholds[name])
        for name in decision.labels
        if name in thresholds
        and thresholds[name].learned
        and float(scores.get(name, 0.0)) < thresholds[name].threshold
    ]
    if not low:
        return decision
    reasons = [
        f"{name} scored {float(scores.get(name, 0.0)):.2f} < learned threshold {t.threshold:.2f} "
        f"(target precision {t.target:.2f}, {t.n} reviewed mails): sent to review"
        for name, t in low
    ]
    return replace(decision, actions=(), needs_review=True, reasons=(*decision.reasons, *reasons))
