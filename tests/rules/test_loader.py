"""YAML -> RuleSet: the examples load, and every mistake is one line naming file, line and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from rules import ActionSpec, Category, Policy, RuleSet, load_rule_set, parse_rule_set
from tests.rules.builders import YAML_MINIMAL, make_rule_set, yaml_with
from worker.core.errors import RuleSetError

# a category whose first action follows: ACTION + "{kind: ...}"
ACTION = "categories:\n  - name: a\n    description: d\n    actions:\n      - "
EXAMPLES = Path(__file__).resolve().parents[2] / "rules" / "examples"


@pytest.mark.parametrize("name", ["office", "helpdesk", "enron-genre"])
def test_examples_load(name: str) -> None:
    rule_set = load_rule_set(EXAMPLES / f"{name}.yaml")
    assert rule_set.name == name
    assert len(rule_set.label_texts()) == len(rule_set.categories)
    assert rule_set.source.endswith(f"{name}.yaml")


def test_enron_genres_are_the_gold_names() -> None:
    rule_set = load_rule_set(EXAMPLES / "enron-genre.yaml")
    assert rule_set.category_names() == ["1.1", "1.2", "1.3", "1.4", "1.5", "1.6"]
    assert rule_set.policy.mode == "top_k" and rule_set.policy.top_k == 1
    assert rule_set.policy.review_band is not None


def test_office_has_the_five_categories_and_actions() -> None:
    rule_set = load_rule_set(EXAMPLES / "office.yaml")
    names = rule_set.category_names()
    assert names == [
        "urgent matters",
        "project progress",
        "meeting notice",
        "customer inquiry",
        "system alert",
    ]
    assert ActionSpec("imap_flag", "\\Flagged") in rule_set.category("urgent matters").actions
    assert any(a.kind == "webhook" for a in rule_set.category("customer inquiry").actions)


def test_defaults_for_a_minimal_file() -> None:
    rule_set = parse_rule_set(YAML_MINIMAL)
    assert rule_set.label_template == "{description}"
    assert rule_set.instruction
    assert rule_set.policy == Policy()
    assert rule_set.policy.threshold == 0.0  # top_k without a threshold is argmax
    assert rule_set.conditions == ()
    assert rule_set.label_texts() == ["mail about a", "mail about b"]


def test_full_file_is_read_into_value_objects() -> None:
    rule_set = parse_rule_set(yaml_with(), source="x.yaml")
    assert rule_set.policy.fallback == "b"
    assert rule_set.category("b").threshold == 0.7
    assert rule_set.category("a").actions == (ActionSpec("imap_keyword", "a"),)
    assert rule_set.conditions[0].regex.search("X@Y.example")  # case-insensitive
    assert rule_set.source == "x.yaml"


def test_digest_is_stable_and_ignores_source_but_not_content() -> None:
    a = parse_rule_set(yaml_with(), source="one.yaml")
    b = parse_rule_set(yaml_with(), source="two.yaml")
    changed = parse_rule_set(yaml_with(policy="policy:\n  mode: top_k\n  fallback: a"))
    assert a.digest == b.digest and len(a.digest) == 64
    assert a.digest != changed.digest
    assert a.template_digest == changed.template_digest


def test_template_digest_follows_instruction_and_template_only() -> None:
    base = make_rule_set()
    other_template = make_rule_set(label_template="{name}: {description}")
    other_categories = make_rule_set(("x", "y"))
    assert base.template_digest != other_template.template_digest
    assert base.template_digest == other_categories.template_digest
    assert base.digest != other_categories.digest


def test_loaded_rule_set_equals_the_one_built_in_code() -> None:
    loaded = parse_rule_set(YAML_MINIMAL, source="m.yaml")
    built = RuleSet(name="minimal", categories=(Category("a", "mail about a"), Category("b", "mail about b")))
    assert loaded == built
    assert loaded.digest == built.digest
    assert hash(loaded) == hash(built)


@pytest.mark.parametrize(
    ("sections", "expected"),
    [
        (
            {"categories": "categories:\n  - name: a\n    description: d\n    threshold: high"},
            "x.yaml:9: categories[0].threshold: must be a number in [0, 1], got 'high'",
        ),
        (
            {"categories": "categories:\n  - name: a\n    description: d\n    threshold: 1.5"},
            "x.yaml:9: categories[0].threshold: must be a number in [0, 1], got 1.5",
        ),
        ({"name": "nmae: sample"}, "x.yaml:1: nmae: unknown key; did you mean 'name'?"),
        (
            {"policy": "policy:\n  mode: top_k\n  treshold: 0.3"},
            "x.yaml:5: policy.treshold: unknown key; did you mean 'threshold'?",
        ),
        (
            {"policy": "policy:\n  mode: best"},
            "x.yaml:4: policy.mode: must be one of top_k, threshold, multi_label",
        ),
        ({"policy": "policy:\n  top_k: 0"}, "x.yaml:4: policy.top_k: must be an integer >= 1, got 0"),
        (
            {"policy": "policy:\n  review_band: [0.8, 0.2]"},
            "x.yaml:4: policy.review_band: low must be <= high",
        ),
        (
            {"policy": "policy:\n  review_band: [0.2, 1.2]"},
            "x.yaml:4: policy.review_band: must be a number in [0, 1]",
        ),
        (
            {"policy": "policy:\n  review_band: 0.5"},
            "x.yaml:4: policy.review_band: must be a pair [low, high]",
        ),
        ({"policy": "policy:\n  fallback: c"}, "x.yaml:4: policy.fallback: no category named 'c'"),
        (
            {"conditions": "conditions:\n  - {field: from, pattern: x, effect: force, category: bb}"},
            "x.yaml:15: conditions[0].category: no category named 'bb'; did you mean 'b'?",
        ),
        (
            {"conditions": "conditions:\n  - {field: from, pattern: '(x', effect: force, category: a}"},
            "x.yaml:15: conditions[0].pattern: invalid regular expression '(x'",
        ),
        (
            {"conditions": "conditions:\n  - {field: cc, pattern: x, effect: force, category: a}"},
            "x.yaml:15: conditions[0].field: must be one of from, to, subject, list_id",
        ),
        (
            {"conditions": "conditions:\n  - {field: to, pattern: x, effect: allow, category: a}"},
            "x.yaml:15: conditions[0].effect: must be one of force, forbid",
        ),
        (
            {"conditions": "conditions:\n  - {field: to, pattern: x, category: a}"},
            "x.yaml:15: conditions[0]: missing key 'effect'",
        ),
        (
            {"categories": "categories: []", "policy": ""},
            "x.yaml:3: categories: must list at least one category",
        ),
        (
            {"categories": "categories:", "policy": ""},
            "x.yaml:3: categories: must list at least one category",
        ),
        ({"categories": "categories: a", "policy": ""}, "x.yaml:3: categories: must be a list"),
        (
            {"categories": "categories:\n  - name: a\n    description: d\n  - name: a\n    description: e"},
            "x.yaml:9: categories[1].name: duplicate category name 'a'",
        ),
        (
            {"categories": "categories:\n  - name: a\n    descripton: d"},
            "x.yaml:8: categories[0].descripton: unknown key; did you mean 'description'?",
        ),
        ({"categories": "categories:\n  - name: a"}, "x.yaml:7: categories[0]: missing key 'description'"),
        ({"categories": "categories:\n  - just a string"}, "x.yaml:7: categories[0]: must be a mapping"),
        (
            {"categories": "categories:\n  - name: 1.1\n    description: d"},
            "x.yaml:7: categories[0].name: must be a string, got 1.1 (quote it in YAML)",
        ),
        (
            {"categories": ACTION + "{kind: label, target: x}"},
            "x.yaml:10: categories[0].actions[0].kind: must be one of imap_keyword, imap_flag",
        ),
        (
            {"categories": ACTION + "{kind: imap_keyword}"},
            "x.yaml:10: categories[0].actions[0]: missing key 'target'",
        ),
        (
            {"categories": ACTION + "{kind: webhook, target: x, params: {n: 5}}"},
            "x.yaml:10: categories[0].actions[0].params.n: must be a string, got 5",
        ),
        (
            {"categories": ACTION + "{kind: imap_flag, target: Flagged}"},
            "x.yaml:10: categories[0].actions[0].target: must be one of \\Seen, \\Answered, \\Flagged, "
            "\\Draft, got 'Flagged'; did you mean '\\Flagged'?",
        ),
        (
            {"categories": "categories:\n  - name: a\n    description: d\n    examples: [ok, '']"},
            "x.yaml:9: categories[0].examples[1]: must be a non-empty str",
        ),
        (
            {"name": "name: sample\nlabel_template: '{nmae}'"},
            "x.yaml:2: label_template: unknown placeholder {nmae}",
        ),
        (
            {"name": "name: sample\nlabel_template: plain"},
            "x.yaml:2: label_template: must contain {name} or {description}",
        ),
        ({"name": "name: ''"}, "x.yaml:1: name: must not be empty"),
        ({"name": ""}, "x.yaml:1: missing key 'name'"),
    ],
)
def test_errors_name_file_line_and_key(sections: dict[str, str], expected: str) -> None:
    with pytest.raises(RuleSetError) as info:
        parse_rule_set(yaml_with(**sections), source="x.yaml")
    message = str(info.value)
    assert message.startswith(expected), message
    assert "\n" not in message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "x.yaml:1: the file is empty"),
        ("# only a comment\n", "x.yaml:1: the file is empty"),
        ("- a\n- b\n", "x.yaml:1: must be a mapping, got list"),
        ("name: [unclosed\n", "x.yaml:2: invalid YAML"),
        ("name: a\nname: b\ncategories: []\n", "x.yaml:2: name: duplicate key 'name'"),
        ("a: 1\n---\nb: 2\n", "x.yaml:2: invalid YAML: expected a single document in the stream; but found"),
    ],
)
def test_malformed_yaml(text: str, expected: str) -> None:
    with pytest.raises(RuleSetError, match="^" + expected.replace("[", r"\[")):
        parse_rule_set(text, source="x.yaml")


@pytest.mark.parametrize(
    "tag",
    [
        "!!python/object/apply:os.system ['echo pwned']",
        "!!python/object:builtins.object {}",
        "!!python/name:os.system",
    ],
)
def test_unsafe_tags_are_refused(tag: str) -> None:
    with pytest.raises(RuleSetError, match=r"^x\.yaml:1: invalid YAML: could not determine a constructor"):
        parse_rule_set(f"name: {tag}\ncategories: []\n", source="x.yaml")


def test_recursive_aliases_do_not_hang() -> None:
    text = YAML_MINIMAL + "conditions: &c [*c]\n"
    with pytest.raises(RuleSetError, match=r"conditions\[0\]: must be a mapping"):
        parse_rule_set(text)


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.yaml"
    with pytest.raises(RuleSetError, match=r"nope\.yaml: no such file$"):
        load_rule_set(path)


def test_unreadable_inputs(tmp_path: Path) -> None:
    binary = tmp_path / "latin1.yaml"
    binary.write_bytes(b"name: caf\xe9\n")
    with pytest.raises(RuleSetError, match="not UTF-8 text"):
        load_rule_set(binary)
    with pytest.raises(RuleSetError, match="cannot read"):
        load_rule_set(tmp_path)


def test_load_rule_set_reports_the_path(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(yaml_with(policy="policy:\n  top_k: two"), encoding="utf-8")
    with pytest.raises(RuleSetError, match=rf"^{path}:4: policy\.top_k: must be an integer >= 1, got 'two'$"):
        load_rule_set(path)


def test_policy_threads_defaults_to_follow_and_keeps_old_digests() -> None:
    plain = parse_rule_set(YAML_MINIMAL)
    assert plain.policy.threads == "follow" and "threads" not in plain.to_dict()["policy"]
    off = parse_rule_set(yaml_with(policy="policy:\n  fallback: b\n  threads: rescore"))
    assert off.policy.threads == "rescore" and off.digest != parse_rule_set(yaml_with()).digest
    with pytest.raises(RuleSetError, match="threads: must be one of follow, rescore, off"):
        parse_rule_set(yaml_with(policy="policy:\n  threads: never"))
