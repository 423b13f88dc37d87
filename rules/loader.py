"""Loading a rule set from YAML, with errors that name the file, line and key.

Parsing is safe-only (see :mod:`rules.yaml_nodes`). Value checks live in the :mod:`rules.schema`
constructors; this module checks shape (mappings, lists, known keys) and turns a
:class:`~rules.checks.SchemaError` path back into a line of the file.
"""

from __future__ import annotations

import re
from os import PathLike
from pathlib import Path
from typing import Any

from rules.checks import KeyPath, SchemaError, suggest
from rules.errors import RuleSetError
from rules.schema import ActionSpec, Category, HeaderCondition, Policy, RuleSet
from rules.yaml_nodes import compose, construct, line_of

_TOP = ("name", "instruction", "label_template", "policy", "categories", "conditions")
_POLICY = (
    "mode",
    "top_k",
    "threshold",
    "min_margin",
    "review_band",
    "fallback",
    "cascade_top_m",
    "target_precision",
    "threads",
)
_CATEGORY = ("name", "description", "threshold", "examples", "actions", "enabled")
_ACTION = ("kind", "target", "params")
_CONDITION = ("field", "pattern", "contains", "effect", "category", "enabled")


def load_rule_set(path: str | PathLike[str]) -> RuleSet:
    """Read and validate the rule set at ``path``; raises RuleSetError with one clear line."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError as e:
        raise RuleSetError(f"{path}: no such file") from e
    except UnicodeDecodeError as e:
        raise RuleSetError(f"{path}: not UTF-8 text ({e.reason} at byte {e.start})") from e
    except OSError as e:
        raise RuleSetError(f"{path}: cannot read: {e.strerror or e}") from e
    return parse_rule_set(text, source=str(path))


def parse_rule_set(text: str, source: str = "<string>") -> RuleSet:
    """Validate the YAML ``text``; ``source`` names it in error messages."""
    root = compose(text, source)
    try:
        return _rule_set(construct(root, source), source)
    except SchemaError as e:
        raise RuleSetError(f"{source}:{line_of(root, e.path)}: {e}") from e


def _mapping(value: Any, path: KeyPath, allowed: tuple[str, ...], required: tuple[str, ...] = ()) -> dict:
    if not isinstance(value, dict):
        raise SchemaError(path, f"must be a mapping, got {type(value).__name__} {value!r}")
    for key in value:
        if key not in allowed:
            raise SchemaError((*path, str(key)), f"unknown key{suggest(str(key), allowed)}")
    for key in required:
        if key not in value:
            raise SchemaError(path, f"missing key {key!r}")
    return value


def _items(value: Any, path: KeyPath) -> list:
    if value is None:  # "actions:" with nothing after it
        return []
    if not isinstance(value, list):
        raise SchemaError(path, f"must be a list, got {type(value).__name__} {value!r}")
    return value


def _build(cls: Any, path: KeyPath, values: dict) -> Any:
    try:
        return cls(**values)
    except SchemaError as e:
        raise e.within(path) from None


def _rule_set(data: Any, source: str) -> RuleSet:
    top = _mapping(data, (), _TOP, required=("name", "categories"))
    policy = _build(Policy, ("policy",), _mapping(top.get("policy") or {}, ("policy",), _POLICY))
    categories, on_categories = [], []
    for i, item in enumerate(_items(top["categories"], ("categories",))):
        on_categories.append(_enabled(item, ("categories", i)))
        categories.append(_category(item, ("categories", i)))
    conditions, on_conditions = [], []
    for i, item in enumerate(_items(top.get("conditions"), ("conditions",))):
        on_conditions.append(_enabled(item, ("conditions", i)))
        conditions.append(_condition(item, ("conditions", i)))
    values = {k: v for k, v in top.items() if k not in ("policy", "categories", "conditions")}
    values.update(policy=policy, source=source)
    # validated whole (so error paths match the file), then without what is disabled
    whole = _build(RuleSet, (), {**values, "categories": categories, "conditions": conditions})
    if all(on_categories) and all(on_conditions):
        return whole
    live = [c for c, on in zip(categories, on_categories, strict=True) if on]
    names = {c.name for c in live}
    kept = [c for c, on in zip(conditions, on_conditions, strict=True) if on and c.category in names]
    return _build(RuleSet, (), {**values, "categories": live, "conditions": kept})


def _enabled(item: Any, path: KeyPath) -> bool:
    """A category or condition with ``enabled: false`` stays in the file but does not route."""
    value = item.get("enabled", True) if isinstance(item, dict) else True
    if not isinstance(value, bool):
        raise SchemaError((*path, "enabled"), f"must be true or false, got {value!r}")
    return value


def _condition(item: Any, path: KeyPath) -> HeaderCondition:
    """``pattern`` is a regular expression; ``contains`` a plain text (case-insensitive) instead."""
    values = dict(_mapping(item, path, _CONDITION, required=("field", "effect", "category")))
    values.pop("enabled", None)
    if ("pattern" in values) == ("contains" in values):
        raise SchemaError(path, "give exactly one of pattern (a regular expression) or contains (a text)")
    if "contains" in values:
        text = values.pop("contains")
        if not isinstance(text, str) or not text.strip():
            raise SchemaError((*path, "contains"), f"must be a non-empty text, got {text!r}")
        values["pattern"] = re.escape(text)
    return _build(HeaderCondition, path, values)


def _category(item: Any, path: KeyPath) -> Category:
    values = dict(_mapping(item, path, _CATEGORY, required=("name", "description")))
    values.pop("enabled", None)
    actions = []
    for j, action in enumerate(_items(values.get("actions"), (*path, "actions"))):
        spec = dict(_mapping(action, (*path, "actions", j), _ACTION, required=("kind", "target")))
        spec["params"] = spec.get("params") or {}
        actions.append(_build(ActionSpec, (*path, "actions", j), spec))
    values["actions"] = actions
    values["examples"] = _items(values.get("examples"), (*path, "examples"))
    return _build(Category, path, values)
