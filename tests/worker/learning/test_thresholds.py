"""Learned thresholds move as they should on constructed score distributions."""

from __future__ import annotations

import pytest

from rules import Category, Decision, Policy, RuleSet
from worker.learning.thresholds import NEVER, gate, learn_threshold, learn_thresholds, precision_curve


def pairs(right: list[float], wrong: list[float]) -> list[tuple[float, bool]]:
    return [(s, True) for s in right] + [(s, False) for s in wrong]


def steps(low: float, high: float, n: int) -> list[float]:
    return [round(low + (high - low) * i / (n - 1), 4) for i in range(n)]


def learn(data: list[tuple[float, bool]], target: float | None = 0.9, minimum: int = 10) -> float:
    return learn_threshold("x", data, target=target, configured=0.5, min_examples=minimum).threshold


def test_separable_scores_give_the_lowest_correct_score() -> None:
    data = pairs(steps(0.70, 0.95, 20), steps(0.10, 0.60, 20))
    assert learn(data, target=0.99) == 0.70  # everything at or above 0.70 is right
    # a looser target admits the top two wrong ones: 20 right of 22 is 0.91, of 23 is 0.87
    assert learn(data, target=0.9) == steps(0.10, 0.60, 20)[-2]


def test_a_stricter_target_moves_the_threshold_up() -> None:
    # wrong answers spread over the whole range: precision grows with the score
    data = pairs(steps(0.40, 1.00, 40), steps(0.00, 0.80, 20))
    loose, strict = learn(data, target=0.8), learn(data, target=0.95)
    assert loose < strict
    curve = precision_curve(data)
    for t, target in ((loose, 0.8), (strict, 0.95)):
        assert next(p for p in curve if p.threshold == t).precision >= target


def test_more_mistakes_at_high_scores_move_the_threshold_up() -> None:
    base = pairs(steps(0.60, 0.95, 30), steps(0.10, 0.50, 30))
    worse = base + pairs([], [0.66, 0.7, 0.74, 0.78])
    assert learn(base) < learn(worse)


def test_too_few_examples_keep_the_configured_threshold() -> None:
    result = learn_threshold("x", pairs([0.9] * 5, [0.2] * 4), target=0.9, configured=0.5, min_examples=10)
    assert (result.threshold, result.source, result.n, result.n_correct) == (0.5, "configured", 9, 5)
    assert result.precision == 1.0  # of the reviewed mails at or above 0.5, for the admin


def test_no_target_keeps_the_configured_threshold() -> None:
    assert learn(pairs(steps(0.7, 0.9, 20), []), target=None) == 0.5


def test_a_target_never_reached_routes_nothing() -> None:
    result = learn_threshold("x", pairs([0.5] * 10, [0.9] * 10), target=0.9, configured=0.5, min_examples=10)
    assert result.threshold == NEVER and result.learned and result.precision is None


def test_equal_scores_pass_together() -> None:
    curve = precision_curve(pairs([0.8, 0.8], [0.8, 0.3]))
    assert [(p.threshold, p.n) for p in curve] == [(0.8, 3), (0.3, 4)]
    assert curve[0].precision == pytest.approx(2 / 3)


def rules(target: float | None = 0.9) -> RuleSet:
    return RuleSet(
        name="t",
        categories=(Category("a", "A", threshold=0.4), Category("b", "B")),
        policy=Policy(mode="top_k", target_precision=target),
    )


def test_learn_thresholds_reads_the_rule_set() -> None:
    learned = learn_thresholds(
        {"a": pairs(steps(0.7, 0.9, 20), steps(0.2, 0.5, 20))}, rules(1.0), min_examples=10
    )
    assert learned["a"].threshold == 0.7 and learned["a"].learned
    assert learned["b"].threshold == 0.0 and learned["b"].source == "configured"  # no data: policy's value


def test_gate_sends_low_scores_to_review_and_keeps_the_rest() -> None:
    learned = learn_thresholds(
        {"a": pairs(steps(0.7, 0.9, 20), steps(0.2, 0.5, 20))}, rules(1.0), min_examples=10
    )
    routed = Decision(("a",), (), needs_review=False, reasons=("a scored 0.65",))
    held = gate(routed, {"a": 0.65}, learned)
    assert held.needs_review and held.actions == () and "learned threshold 0.70" in held.reasons[-1]
    assert gate(routed, {"a": 0.75}, learned) == routed
    untrained = Decision(("b",), (), needs_review=False, reasons=())
    assert gate(untrained, {"b": 0.1}, learned) == untrained
