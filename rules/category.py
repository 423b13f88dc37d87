"""A rule set's category, and the normalising helpers the value objects' constructors share."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rules import checks
from rules.actions import ActionSpec
from rules.checks import SchemaError


def _set(obj: object, name: str, value: Any) -> None:
    object.__setattr__(obj, name, value)  # normalising a frozen dataclass in __post_init__


def _tuple_of(values: Any, key: str, kind: type) -> tuple:
    """``values`` as a tuple after checking each item is a ``kind`` (strings: non-empty)."""
    if not isinstance(values, list | tuple):
        raise SchemaError((key,), f"must be a list, got {values!r}")
    for i, value in enumerate(values):
        if not isinstance(value, kind) or (isinstance(value, str) and not value.strip()):
            raise SchemaError((key, i), f"must be a non-empty {kind.__name__}, got {value!r}")
    return tuple(values)


@dataclass(frozen=True)
class Category:
    """A label the model scores; ``threshold`` None means the policy's threshold."""

    name: str
    description: str
    threshold: float | None = None
    actions: tuple[ActionSpec, ...] = ()
    examples: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        checks.text(self.name, "name")
        checks.text(self.description, "description")
        _set(self, "threshold", checks.optional_unit(self.threshold, "threshold"))
        _set(self, "actions", _tuple_of(self.actions, "actions", ActionSpec))
        _set(self, "examples", _tuple_of(self.examples, "examples", str))

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "threshold": self.threshold,
            "actions": [a.to_dict() for a in self.actions],
            "examples": list(self.examples),
        }
