"""Loading a rule set from YAML, with errors that name the file, line and key.

The text is composed into a node tree first (which keeps line marks) and then constructed with
PyYAML's *safe* constructor only, so tags such as ``!!python/object`` are refused. Value checks live
in the :mod:`rules.schema` constructors; this module checks shape (mappings, lists, known keys) and
turns a :class:`~rules.checks.SchemaError` path back into a line of the file.
"""

from __future__ import annotations

from os import PathLike
from pathlib import Path
from typing import Any

import yaml

from rules.checks import Path as KeyPath
from rules.checks import SchemaError, suggest
from rules.schema import ActionSpec, Category, HeaderCondition, Policy, RuleSet
from worker.errors import RuleSetError

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
)
_CATEGORY = ("name", "description", "threshold", "examples", "actions")
_ACTION = ("kind", "target", "params")
_CONDITION = ("field", "pattern", "effect", "category")


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
    root = _compose(text, source)
    try:
        return _rule_set(_construct(root, source), source)
    except SchemaError as e:
        raise RuleSetError(f"{source}:{_line_of(root, e.path)}: {e}") from e


def _compose(text: str, source: str) -> yaml.Node:
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
    except yaml.YAMLError as e:
        raise _yaml_error(e, source) from e
    finally:
        loader.dispose()
    if node is None:
        raise RuleSetError(f"{source}:1: the file is empty")
    _check_duplicate_keys(node, (), source, set())
    return node


def _construct(node: yaml.Node, source: str) -> Any:
    loader = yaml.SafeLoader("")
    try:
        return loader.construct_document(node)
    except yaml.YAMLError as e:
        raise _yaml_error(e, source) from e
    finally:
        loader.dispose()


def _yaml_error(e: yaml.YAMLError, source: str) -> RuleSetError:
    mark = getattr(e, "problem_mark", None) or getattr(e, "context_mark", None)
    line = mark.line + 1 if mark is not None else 1
    problem = getattr(e, "problem", None) or str(e)
    return RuleSetError(f"{source}:{line}: invalid YAML: {problem}")


def _check_duplicate_keys(node: yaml.Node, path: KeyPath, source: str, seen: set[int]) -> None:
    # PyYAML keeps the last of two equal keys silently; a rule set that says a thing twice is a mistake
    if id(node) in seen:
        return
    seen.add(id(node))
    if isinstance(node, yaml.MappingNode):
        keys: set[str] = set()
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode):
                if key.value in keys:
                    where = SchemaError((*path, key.value), f"duplicate key {key.value!r}")
                    raise RuleSetError(f"{source}:{key.start_mark.line + 1}: {where}")
                keys.add(key.value)
            _check_duplicate_keys(value, (*path, key.value), source, seen)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _check_duplicate_keys(item, (*path, i), source, seen)


def _line_of(node: yaml.Node, path: KeyPath) -> int:
    """The line of the deepest node on ``path`` (a key's own line for mapping keys)."""
    mark = node.start_mark
    for part in path:
        if isinstance(node, yaml.MappingNode):
            match = [(k, v) for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value == str(part)]
            if not match:
                break
            mark, node = match[0][0].start_mark, match[0][1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
            mark = node.start_mark
        else:
            break
    return mark.line + 1


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
    categories = [
        _category(item, ("categories", i))
        for i, item in enumerate(_items(top["categories"], ("categories",)))
    ]
    conditions = [
        _build(HeaderCondition, ("conditions", i), _mapping(item, ("conditions", i), _CONDITION, _CONDITION))
        for i, item in enumerate(_items(top.get("conditions"), ("conditions",)))
    ]
    values = {k: v for k, v in top.items() if k not in ("policy", "categories", "conditions")}
    return _build(
        RuleSet,
        (),
        {**values, "policy": policy, "categories": categories, "conditions": conditions, "source": source},
    )


def _category(item: Any, path: KeyPath) -> Category:
    values = dict(_mapping(item, path, _CATEGORY, required=("name", "description")))
    actions = []
    for j, action in enumerate(_items(values.get("actions"), (*path, "actions"))):
        spec = dict(_mapping(action, (*path, "actions", j), _ACTION, required=("kind", "target")))
        spec["params"] = spec.get("params") or {}
        actions.append(_build(ActionSpec, (*path, "actions", j), spec))
    values["actions"] = actions
    values["examples"] = _items(values.get("examples"), (*path, "examples"))
    return _build(Category, path, values)
