"""YAML mechanics for the loader: safe parsing that keeps line marks, and paths back to lines.

The text is composed into a node tree first (which keeps line marks) and then constructed with
PyYAML's *safe* constructor only, so tags such as ``!!python/object`` are refused.
"""

from __future__ import annotations

from typing import Any

import yaml

from rules.checks import KeyPath, SchemaError
from rules.errors import RuleSetError


def compose(text: str, source: str) -> yaml.Node:
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
    except yaml.YAMLError as e:
        raise yaml_error(e, source) from e
    finally:
        loader.dispose()
    if node is None:
        raise RuleSetError(f"{source}:1: the file is empty")
    check_duplicate_keys(node, (), source, set())
    return node


def construct(node: yaml.Node, source: str) -> Any:
    loader = yaml.SafeLoader("")
    try:
        return loader.construct_document(node)
    except yaml.YAMLError as e:
        raise yaml_error(e, source) from e
    finally:
        loader.dispose()


def yaml_error(e: yaml.YAMLError, source: str) -> RuleSetError:
    mark = getattr(e, "problem_mark", None) or getattr(e, "context_mark", None)
    line = mark.line + 1 if mark is not None else 1
    parts = [getattr(e, "context", None), getattr(e, "problem", None)]
    problem = "; ".join(p for p in parts if p) or str(e)
    return RuleSetError(f"{source}:{line}: invalid YAML: {problem}")


def check_duplicate_keys(node: yaml.Node, path: KeyPath, source: str, seen: set[int]) -> None:
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
            check_duplicate_keys(value, (*path, key.value), source, seen)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            check_duplicate_keys(item, (*path, i), source, seen)


def line_of(node: yaml.Node, path: KeyPath) -> int:
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
