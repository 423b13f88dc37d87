"""The value objects check themselves when built, so code-built rule sets meet the YAML rules."""

from __future__ import annotations

import copy
import dataclasses
import pickle
from pathlib import Path
from typing import Any

import pytest

from rules import ActionSpec, Category, HeaderCondition, Policy, RuleSet, SchemaError, load_rule_set
from rules.checks import format_path
from tests.rules.builders import condition, make_category, make_rule_set
from worker.core.errors import RuleSetError

EXAMPLES = Path(__file__).resolve().parents[2] / "rules" / "examples"


def test_action_params_are_read_only_and_hashable() -> None:
    params = {"priority": "high"}
    action = ActionSpec("webhook", "crm", params)
    params["priority"] = "low"
    assert action.params == {"priority": "high"}
    with pytest.raises(TypeError):
        action.params["x"] = "y"  # type: ignore[index]
    assert hash(action) == hash(ActionSpec("webhook", "crm", {"priority": "high"}))
    assert len({action, ActionSpec("webhook", "crm", {"priority": "high"})}) == 1


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"kind": "tag", "target": "x"}, "kind: must be one of imap_keyword"),
        ({"kind": "imap_move", "target": " "}, "target: must not be empty"),
        ({"kind": "imap_keyword", "target": "two words"}, "target: IMAP keyword 'two words' may not contain"),
        ({"kind": "imap_keyword", "target": "a]b"}, "target: IMAP keyword"),
        ({"kind": "imap_flag", "target": "\\Deleted"}, "target: must be one of \\Seen, \\Answered"),
        ({"kind": "webhook", "target": "x", "params": ["a"]}, "params: must be a mapping"),
    ],
)
def test_bad_actions(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(SchemaError) as info:
        ActionSpec(**kwargs)
    assert str(info.value).startswith(message)


def test_condition_compiles_its_pattern_case_insensitively() -> None:
    cond = condition("subject", "^urgent", "force", "a")
    assert cond.regex.search("URGENT: now")
    assert cond == HeaderCondition("subject", "^urgent", "force", "a")
    with pytest.raises(SchemaError, match=r"^pattern: invalid regular expression '\[a'"):
        condition("subject", "[a", "force", "a")


def test_category_normalises_lists_and_ints() -> None:
    category = Category("a", "d", threshold=1, actions=[ActionSpec("imap_move", "A")], examples=["e"])  # type: ignore[arg-type]
    assert category.threshold == 1.0 and isinstance(category.threshold, float)
    assert category.actions == (ActionSpec("imap_move", "A"),)
    assert category.examples == ("e",)
    assert hash(category)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"threshold": True}, "threshold: must be a number in [0, 1], got True"),
        ({"threshold": -0.1}, "threshold: must be a number in [0, 1], got -0.1"),
        ({"actions": ("imap_keyword",)}, "actions[0]: must be a non-empty ActionSpec"),
        ({"actions": "x"}, "actions: must be a list"),
        ({"examples": (" ",)}, "examples[0]: must be a non-empty str"),
        ({"description": ""}, "description: must not be empty"),
    ],
)
def test_bad_categories(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(SchemaError) as info:
        Category(**{"name": "a", "description": "d", **kwargs})
    assert str(info.value).startswith(message)


@pytest.mark.parametrize(("mode", "threshold"), [("top_k", 0.0), ("threshold", 0.5), ("multi_label", 0.5)])
def test_policy_threshold_default_depends_on_mode(mode: Any, threshold: float) -> None:
    policy = Policy(mode=mode)
    assert policy.threshold == threshold
    assert policy.threshold_for(None) == threshold and policy.threshold_for(0.7) == 0.7
    assert Policy(mode=mode, threshold=0.3).threshold == 0.3


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"top_k": 0}, "top_k: must be an integer >= 1"),
        ({"top_k": 1.5}, "top_k: must be an integer >= 1"),
        ({"min_margin": 2}, "min_margin: must be a number in [0, 1]"),
        ({"review_band": (0.5, 0.4)}, "review_band: low must be <= high"),
        ({"cascade_top_m": 0}, "cascade_top_m: must be an integer >= 1"),
        ({"target_precision": 1.1}, "target_precision: must be a number in [0, 1]"),
        ({"fallback": ""}, "fallback: must not be empty"),
        (
            {"mode": "topk"},
            "mode: must be one of top_k, threshold, multi_label, got 'topk'; did you mean 'top_k'?",
        ),
    ],
)
def test_bad_policies(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(SchemaError) as info:
        Policy(**kwargs)
    assert str(info.value).startswith(message)


def test_rule_set_cross_checks() -> None:
    with pytest.raises(SchemaError, match=r"^categories\[1\]\.name: duplicate category name 'a'$"):
        make_rule_set(("a", "a"))
    with pytest.raises(SchemaError, match=r"^policy\.fallback: no category named 'z'"):
        make_rule_set(fallback="z")
    with pytest.raises(SchemaError, match=r"^conditions\[0\]\.category: no category named 'z'"):
        make_rule_set(conditions=[condition("to", "x", "forbid", "z")])
    with pytest.raises(SchemaError, match=r"^categories: must list at least one category$"):
        make_rule_set(())
    with pytest.raises(SchemaError, match=r"^categories\[0\]: must be a non-empty Category"):
        RuleSet(name="x", categories=("a",))  # type: ignore[arg-type]
    with pytest.raises(SchemaError, match=r"^policy: must be a Policy"):
        RuleSet(name="x", categories=(make_category("a"),), policy={"mode": "top_k"})  # type: ignore[arg-type]


def test_schema_error_is_a_rule_set_error_with_a_path() -> None:
    error = SchemaError(("threshold",), "bad").within(("categories", 2))
    assert isinstance(error, RuleSetError)
    assert (error.path, error.detail, str(error)) == (
        ("categories", 2, "threshold"),
        "bad",
        "categories[2].threshold: bad",
    )
    assert format_path(()) == "" and format_path((0, "a")) == "[0].a"


def test_rule_sets_survive_pickle_and_deepcopy() -> None:
    rule_set = load_rule_set(EXAMPLES / "office.yaml")
    assert pickle.loads(pickle.dumps(rule_set)) == rule_set
    assert copy.deepcopy(rule_set) == rule_set
    assert pickle.loads(pickle.dumps(rule_set)).conditions[0].regex.search("a@alerts.example.com")


def test_policy_works_with_dataclasses_replace() -> None:
    policy = dataclasses.replace(Policy(mode="threshold"), threshold=0.3)
    assert (policy.mode, policy.threshold) == ("threshold", 0.3)


def test_to_dict_is_plain_data() -> None:
    rule_set = make_rule_set(
        (make_category("a", actions=[ActionSpec("webhook", "w", {"k": "v"})]), "b"),
        conditions=[condition("from", "x", "force", "a")],
        review_band=(0.2, 0.4),
    )
    data = rule_set.to_dict()
    assert data["policy"]["review_band"] == [0.2, 0.4]
    assert data["categories"][0]["actions"] == [{"kind": "webhook", "target": "w", "params": {"k": "v"}}]
    assert data["conditions"] == [{"field": "from", "pattern": "x", "effect": "force", "category": "a"}]
    assert "source" not in data
