"""decide(): every policy, the review checks, conditions, fallback, and the reasons it gives."""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

import pytest

from rules import ActionSpec, Decision, decide
from tests.rules.builders import condition, make_category, make_facts, make_rule_set

KW = {name: ActionSpec("imap_keyword", name) for name in "abcd"}
FACTS = make_facts()


def labels_of(scores: dict[str, float], **policy: Any) -> tuple[tuple[str, ...], bool]:
    decision = decide(scores, FACTS, make_rule_set(("a", "b", "c", "d"), **policy))
    return decision.labels, decision.needs_review


@pytest.mark.parametrize(
    ("policy", "scores", "labels", "review"),
    [
        # top_k: argmax by default (threshold 0), K best passing otherwise
        ({}, {"a": 0.2, "b": 0.5, "c": 0.1, "d": 0.0}, ("b",), False),
        ({}, {"a": 0.01, "b": 0.02, "c": 0.0, "d": 0.0}, ("b",), False),
        ({"top_k": 2}, {"a": 0.2, "b": 0.5, "c": 0.3, "d": 0.0}, ("b", "c"), False),
        ({"top_k": 3, "threshold": 0.25}, {"a": 0.2, "b": 0.5, "c": 0.3, "d": 0.0}, ("b", "c"), False),
        ({"top_k": 9}, {"a": 0.2, "b": 0.5, "c": 0.3, "d": 0.4}, ("b", "d", "c", "a"), False),
        ({"threshold": 0.6}, {"a": 0.2, "b": 0.5, "c": 0.3, "d": 0.0}, (), False),
        ({"threshold": 0.6, "fallback": "d"}, {"a": 0.2, "b": 0.5, "c": 0.3, "d": 0.0}, ("d",), False),
        # ties keep category order
        ({"top_k": 2}, {"a": 0.4, "b": 0.4, "c": 0.4, "d": 0.4}, ("a", "b"), False),
        # threshold: the best one passing, default threshold 0.5
        ({"mode": "threshold"}, {"a": 0.6, "b": 0.7, "c": 0.1, "d": 0.0}, ("b",), False),
        ({"mode": "threshold"}, {"a": 0.4, "b": 0.45, "c": 0.1, "d": 0.0}, (), False),
        ({"mode": "threshold", "threshold": 0.4}, {"a": 0.4, "b": 0.3, "c": 0.1, "d": 0.0}, ("a",), False),
        ({"mode": "threshold", "fallback": "c"}, {"a": 0.4, "b": 0.45, "c": 0.1, "d": 0.0}, ("c",), False),
        ({"mode": "threshold", "top_k": 3}, {"a": 0.6, "b": 0.7, "c": 0.8, "d": 0.0}, ("c",), False),
        # multi_label: every passing one, by score
        ({"mode": "multi_label"}, {"a": 0.6, "b": 0.7, "c": 0.1, "d": 0.5}, ("b", "a", "d"), False),
        ({"mode": "multi_label", "threshold": 0.9}, {"a": 0.6, "b": 0.7, "c": 0.1, "d": 0.5}, (), False),
        (
            {"mode": "multi_label", "top_k": 1},
            {"a": 0.6, "b": 0.7, "c": 0.1, "d": 0.5},
            ("b", "a", "d"),
            False,
        ),
        # min_margin
        ({"min_margin": 0.05}, {"a": 0.50, "b": 0.53, "c": 0.1, "d": 0.0}, ("b",), True),
        ({"min_margin": 0.05}, {"a": 0.50, "b": 0.56, "c": 0.1, "d": 0.0}, ("b",), False),
        (
            {"mode": "multi_label", "min_margin": 0.1},
            {"a": 0.8, "b": 0.75, "c": 0.1, "d": 0.0},
            ("a", "b"),
            True,
        ),
        # review_band is [low, high)
        ({"review_band": (0.4, 0.6)}, {"a": 0.5, "b": 0.1, "c": 0.1, "d": 0.0}, ("a",), True),
        ({"review_band": (0.4, 0.6)}, {"a": 0.4, "b": 0.1, "c": 0.1, "d": 0.0}, ("a",), True),
        ({"review_band": (0.4, 0.6)}, {"a": 0.6, "b": 0.1, "c": 0.1, "d": 0.0}, ("a",), False),
        ({"review_band": (0.4, 0.6)}, {"a": 0.39, "b": 0.1, "c": 0.1, "d": 0.0}, ("a",), False),
        # a top score in the band but under the threshold: the fallback is proposed, and held
        (
            {"mode": "threshold", "threshold": 0.6, "review_band": (0.4, 0.6), "fallback": "d"},
            {"a": 0.5, "b": 0.1, "c": 0.1, "d": 0.0},
            ("d",),
            True,
        ),
    ],
)
def test_policies(
    policy: dict[str, Any], scores: dict[str, float], labels: tuple[str, ...], review: bool
) -> None:
    assert labels_of(scores, **policy) == (labels, review)


def test_per_category_threshold_overrides_the_policy() -> None:
    rule_set = make_rule_set(
        (make_category("strict", threshold=0.9), make_category("loose", threshold=0.1), "plain"),
        mode="multi_label",
    )
    decision = decide({"strict": 0.8, "loose": 0.2, "plain": 0.5}, FACTS, rule_set)
    assert decision.labels == ("plain", "loose")
    assert "loose scored 0.20 ≥ threshold 0.10" in decision.reasons
    assert "plain scored 0.50 ≥ threshold 0.50" in decision.reasons


def test_reasons_read_as_sentences() -> None:
    rule_set = make_rule_set(("urgent matters", "other"), mode="threshold", threshold=0.6)
    decision = decide({"urgent matters": 0.82, "other": 0.1}, FACTS, rule_set)
    assert decision.reasons == ("urgent matters scored 0.82 ≥ threshold 0.60",)


def test_margin_reason() -> None:
    decision = decide({"a": 0.50, "b": 0.53, "c": 0.0}, FACTS, make_rule_set(min_margin=0.05))
    assert "top two within margin 0.03 < 0.05: sent to review" in decision.reasons


def test_band_reason() -> None:
    decision = decide({"a": 0.5, "b": 0.0, "c": 0.0}, FACTS, make_rule_set(review_band=(0.4, 0.6)))
    assert "top score 0.50 inside review band [0.40, 0.60): sent to review" in decision.reasons


def test_review_holds_actions_but_keeps_labels() -> None:
    decision = decide({"a": 0.5, "b": 0.1, "c": 0.0}, FACTS, make_rule_set(review_band=(0.4, 0.6)))
    assert decision == Decision(("a",), (), True, decision.reasons)


def test_fallback_reasons() -> None:
    with_fallback = decide({"a": 0.1}, FACTS, make_rule_set(threshold=0.5, fallback="c"))
    without = decide({"a": 0.1}, FACTS, make_rule_set(threshold=0.5))
    assert with_fallback.labels == ("c",) and with_fallback.actions == (KW["c"],)
    assert "no category chosen: fell back to c" in with_fallback.reasons
    assert "best category a scored 0.10 < threshold 0.50" in with_fallback.reasons
    assert without.labels == () and without.actions == ()
    assert "no category chosen and no fallback set: no label" in without.reasons


def test_actions_follow_label_order_deduplicated() -> None:
    shared = ActionSpec("webhook", "crm", {"priority": "high"})
    rule_set = make_rule_set(
        (
            make_category("a", actions=(KW["a"], shared)),
            make_category("b", actions=(ActionSpec("webhook", "crm", {"priority": "high"}), KW["b"])),
        ),
        mode="multi_label",
    )
    decision = decide({"a": 0.6, "b": 0.9}, FACTS, rule_set)
    assert decision.labels == ("b", "a")
    assert decision.actions == (shared, KW["b"], KW["a"])


def test_category_without_actions() -> None:
    rule_set = make_rule_set((make_category("a", actions=()), "b"))
    assert decide({"a": 0.9, "b": 0.1}, FACTS, rule_set).actions == ()


ALERTS = condition("from", r"@alerts\.example", "force", "c")


@pytest.mark.parametrize(
    ("policy", "scores", "labels"),
    [
        ({}, {"a": 0.9, "b": 0.1, "c": 0.0}, ("c",)),  # forced takes top_k's only slot
        ({"top_k": 2}, {"a": 0.9, "b": 0.1, "c": 0.0}, ("c", "a")),
        ({"mode": "threshold"}, {"a": 0.9, "b": 0.1, "c": 0.0}, ("c",)),
        ({"mode": "multi_label"}, {"a": 0.9, "b": 0.6, "c": 0.0}, ("c", "a", "b")),
    ],
)
def test_force_condition(policy: dict[str, Any], scores: dict[str, float], labels: tuple[str, ...]) -> None:
    rule_set = make_rule_set(conditions=[ALERTS], **policy)
    decision = decide(scores, make_facts(sender="Monitor <bot@ALERTS.example.com>"), rule_set)
    assert decision.labels == labels
    assert "c forced by condition from ~ '@alerts\\.example'" in decision.reasons
    assert decision.actions[0] == KW["c"]


def test_forced_labels_are_not_sent_to_review_when_the_model_decides_nothing() -> None:
    rule_set = make_rule_set(conditions=[ALERTS], review_band=(0.0, 1.0), min_margin=0.5)
    decision = decide({"a": 0.5, "b": 0.5}, make_facts(sender="bot@alerts.example"), rule_set)
    assert (decision.labels, decision.needs_review, decision.actions) == (("c",), False, (KW["c"],))


def test_forced_with_doubtful_model_labels_goes_to_review() -> None:
    rule_set = make_rule_set(conditions=[ALERTS], mode="multi_label", review_band=(0.4, 0.6))
    decision = decide({"a": 0.55}, make_facts(sender="bot@alerts.example"), rule_set)
    assert decision.labels == ("c", "a") and decision.needs_review and decision.actions == ()


def test_no_condition_matches_leaves_the_model_alone() -> None:
    rule_set = make_rule_set(conditions=[ALERTS])
    decision = decide({"a": 0.9}, make_facts(sender="someone@example.org"), rule_set)
    assert decision.labels == ("a",)
    assert not any("condition" in r for r in decision.reasons)


@pytest.mark.parametrize(
    ("field", "pattern", "facts", "matches"),
    [
        ("to", "^support@", make_facts(recipients=("x@example.com", "Support@example.com")), True),
        ("to", "^support@", make_facts(recipients=()), False),
        ("subject", r"\binvoice\b", make_facts(subject="Your INVOICE #42"), True),
        ("subject", r"\binvoice\b", make_facts(subject="invoices"), False),
        ("list_id", ".", make_facts(list_id=None), False),
        ("list_id", "announce", make_facts(list_id="<announce.lists.example.com>"), True),
        ("from", "example", make_facts(sender="Bob <bob@example.com>"), True),
    ],
)
def test_forbid_condition_fields(field: str, pattern: str, facts: Any, matches: bool) -> None:
    rule_set = make_rule_set(conditions=[condition(field, pattern, "forbid", "a")])
    decision = decide({"a": 0.9, "b": 0.4, "c": 0.1}, facts, rule_set)
    assert decision.labels == (("b",) if matches else ("a",))
    assert any(r.startswith("a forbidden by condition") for r in decision.reasons) is matches


def test_forbidden_top_is_left_out_of_the_review_checks() -> None:
    rule_set = make_rule_set(conditions=[condition("subject", ".", "forbid", "a")], min_margin=0.1)
    decision = decide({"a": 0.6, "b": 0.59, "c": 0.1}, FACTS, rule_set)
    assert decision.labels == ("b",) and not decision.needs_review


def test_force_wins_over_forbid() -> None:
    conditions = [condition("subject", ".", "forbid", "a"), condition("subject", ".", "force", "a")]
    decision = decide({"a": 0.0, "b": 0.9}, FACTS, make_rule_set(conditions=conditions))
    assert decision.labels == ("a",)
    assert "a is both forced and forbidden: forcing wins" in decision.reasons


def test_forbidden_fallback_gives_no_label() -> None:
    rule_set = make_rule_set(
        conditions=[condition("subject", ".", "forbid", "c")], threshold=0.5, fallback="c"
    )
    decision = decide({"a": 0.1}, FACTS, rule_set)
    assert decision.labels == ()
    assert "no category chosen and fallback c is forbidden: no label" in decision.reasons


def test_every_category_forbidden() -> None:
    conditions = [condition("subject", ".", "forbid", name) for name in "abc"]
    decision = decide({"a": 0.9}, FACTS, make_rule_set(conditions=conditions, review_band=(0.0, 1.0)))
    assert (decision.labels, decision.needs_review) == ((), False)


def test_unknown_and_missing_scores() -> None:
    decision = decide({"a": 0.3, "zzz": 0.99, "yyy": 0.5}, FACTS, make_rule_set())
    assert decision.labels == ("a",)
    assert "ignored scores for labels not in rule set test: yyy, zzz" in decision.reasons
    assert "b has no score: counted as 0" in decision.reasons
    assert "c has no score: counted as 0" in decision.reasons


@pytest.mark.parametrize("bad", [math.nan, math.inf, None, "0.9", True])
def test_invalid_scores_count_as_zero(bad: Any) -> None:
    decision = decide({"a": bad, "b": 0.2, "c": 0.1}, FACTS, make_rule_set())
    assert decision.labels == ("b",)
    assert f"a has an invalid score {bad!r}: counted as 0" in decision.reasons


def test_other_real_number_types_are_accepted() -> None:
    scores: dict[str, Any] = {"a": Fraction(1, 2), "b": 0.2, "c": 0}
    decision = decide(scores, FACTS, make_rule_set())
    assert decision.labels == ("a",)


def test_decide_is_deterministic_and_leaves_its_inputs_alone() -> None:
    scores = {"a": 0.5, "b": 0.5, "c": 0.2}
    rule_set = make_rule_set(top_k=2, min_margin=0.01)
    first = decide(scores, FACTS, rule_set)
    assert all(decide(dict(scores), FACTS, rule_set) == first for _ in range(5))
    assert scores == {"a": 0.5, "b": 0.5, "c": 0.2}
    with pytest.raises(AttributeError):
        first.labels = ()  # type: ignore[misc]


def test_review_without_fallback_proposes_the_best_guess() -> None:
    rule_set = make_rule_set(("a", "b", "c", "d"), mode="threshold", threshold=0.6, review_band=(0.4, 0.6))
    decision = decide({"a": 0.2, "b": 0.5, "c": 0.3, "d": 0.0}, make_facts(), rule_set)
    assert decision.needs_review and decision.labels == ("b",) and decision.actions == ()
    assert "proposed b for review" in decision.reasons
