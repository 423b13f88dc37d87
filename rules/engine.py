"""Deciding a mail's labels from its scores: pure, deterministic, and every step explained.

Order of work: header conditions (force/forbid), then the policy over the remaining categories by
score (ties broken by category order), then the review checks (``min_margin``, ``review_band``),
then the fallback when nothing was chosen. A decision that needs review keeps the labels it would
have applied, so a reviewer can approve them, but holds every action: ``actions`` is then ``()``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from rules.checks import finite

# moved out, used here and still imported from here: a mail's facts and the header conditions
from rules.matching import MessageFacts as MessageFacts
from rules.matching import _apply_conditions
from rules.schema import ActionSpec, RuleSet


@dataclass(frozen=True)
class Decision:
    """Labels in decision order; actions of those labels, or ``()`` when ``needs_review``."""

    labels: tuple[str, ...]
    actions: tuple[ActionSpec, ...]
    needs_review: bool
    reasons: tuple[str, ...]


def decide(scores: Mapping[str, float], facts: MessageFacts, rule_set: RuleSet) -> Decision:
    """The decision for one mail given the backend's ``scores`` by category name."""
    reasons: list[str] = []
    score = _known_scores(scores, rule_set, reasons)
    forced, forbidden = _apply_conditions(facts, rule_set, reasons)
    policy = rule_set.policy
    ranked = sorted(
        (c for c in rule_set.categories if c.name not in forced and c.name not in forbidden),
        key=lambda c: -score[c.name],  # sorted() is stable: equal scores keep category order
    )
    passing = [c for c in ranked if score[c.name] >= policy.threshold_for(c.threshold)]
    # forced labels take the first of top_k's slots, and threshold mode's single one
    slots = {"top_k": policy.top_k - len(forced), "threshold": 1 - len(forced), "multi_label": len(ranked)}
    chosen = passing[: max(slots[policy.mode], 0)]
    for c in chosen:
        reasons.append(
            f"{c.name} scored {score[c.name]:.2f} ≥ threshold {policy.threshold_for(c.threshold):.2f}"
        )
    if ranked and not passing:
        best = ranked[0]
        limit = policy.threshold_for(best.threshold)
        reasons.append(f"best category {best.name} scored {score[best.name]:.2f} < threshold {limit:.2f}")

    # review only doubts the model: when conditions filled every slot, the model decided nothing
    model_decides = bool(ranked) and slots[policy.mode] > 0
    needs_review = model_decides and _doubtful([score[c.name] for c in ranked], rule_set, reasons)

    labels = [*forced, *(c.name for c in chosen)]
    if not labels and needs_review and rule_set.policy.fallback is None:
        # no fallback to propose: offer the reviewer the model's best guess
        labels = [ranked[0].name]
        reasons.append(f"proposed {ranked[0].name} for review")
    if not labels:
        labels = _fallback(rule_set, forbidden, reasons)
    actions: list[ActionSpec] = []
    if not needs_review:
        for name in labels:
            for action in rule_set.category(name).actions:
                if action not in actions:
                    actions.append(action)
    return Decision(tuple(labels), tuple(actions), needs_review, tuple(reasons))


def _known_scores(scores: Mapping[str, float], rule_set: RuleSet, reasons: list[str]) -> dict[str, float]:
    names = rule_set.category_names()
    unknown = sorted(set(scores) - set(names))
    if unknown:
        reasons.append(f"ignored scores for labels not in rule set {rule_set.name}: {', '.join(unknown)}")
    out: dict[str, float] = {}
    for name in names:
        value = finite(scores.get(name))
        if value is None:
            problem = "has no score" if name not in scores else f"has an invalid score {scores[name]!r}"
            reasons.append(f"{name} {problem}: counted as 0")
        out[name] = value or 0.0
    return out


def _doubtful(ranked_scores: list[float], rule_set: RuleSet, reasons: list[str]) -> bool:
    policy = rule_set.policy
    top = ranked_scores[0]
    doubtful = False
    if len(ranked_scores) > 1 and top - ranked_scores[1] < policy.min_margin:
        gap = top - ranked_scores[1]
        reasons.append(f"top two within margin {gap:.2f} < {policy.min_margin:.2f}: sent to review")
        doubtful = True
    if policy.review_band is not None:
        low, high = policy.review_band
        if low <= top < high:
            reasons.append(f"top score {top:.2f} inside review band [{low:.2f}, {high:.2f}): sent to review")
            doubtful = True
    return doubtful


def _fallback(rule_set: RuleSet, forbidden: set[str], reasons: list[str]) -> list[str]:
    fallback = rule_set.policy.fallback
    if fallback is None:
        reasons.append("no category chosen and no fallback set: no label")
        return []
    if fallback in forbidden:
        reasons.append(f"no category chosen and fallback {fallback} is forbidden: no label")
        return []
    reasons.append(f"no category chosen: fell back to {fallback}")
    return [fallback]
