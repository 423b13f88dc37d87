"""Conditions: a regular expression on a fact of the mail that forces or forbids a category.

Facts: the headers (``from``, ``to``, ``subject``, ``list_id``), where it was received (``account``,
``folder``), its attachments (``attachment_name``, ``attachment_type``: any attachment matching) and
its readable ``body``. In YAML, ``contains: TEXT`` is a plain-text alternative to ``pattern``.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import Any, Literal

from rules import checks
from rules.checks import SchemaError

CONDITION_FIELDS = (
    "from",
    "to",
    "subject",
    "list_id",
    "account",
    "folder",
    "attachment_name",
    "attachment_type",
    "body",
)
EFFECTS = ("force", "forbid")


@dataclass(frozen=True)
class HeaderCondition:
    """A header rule: when ``pattern`` matches ``field`` (case-insensitive search), force or forbid."""

    field: str
    pattern: str
    effect: Literal["force", "forbid"]
    category: str
    regex: re.Pattern[str] = dataclasses.field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        checks.one_of(self.field, "field", CONDITION_FIELDS)
        checks.text(self.pattern, "pattern")
        checks.one_of(self.effect, "effect", EFFECTS)
        checks.text(self.category, "category")
        try:
            object.__setattr__(self, "regex", re.compile(self.pattern, re.IGNORECASE))
        except re.error as e:
            raise SchemaError(("pattern",), f"invalid regular expression {self.pattern!r}: {e}") from e

    def to_dict(self) -> dict[str, Any]:
        return {
            "field": self.field,
            "pattern": self.pattern,
            "effect": self.effect,
            "category": self.category,
        }
