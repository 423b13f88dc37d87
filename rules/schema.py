"""The rule-set value objects, each validated in its constructor.

Constructors normalise what they are given (lists to tuples, ints to floats) and raise
:class:`~rules.checks.SchemaError` naming the bad field, so a rule set built in code is held to the
same checks as one loaded from YAML. Every object is frozen and hashable.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from rules import checks
from rules.actions import ACTION_KINDS, IMAP_FLAGS, ActionSpec

# moved out, used here and still imported from here: Category and the constructors' helpers
from rules.category import Category, _set, _tuple_of
from rules.checks import SchemaError
from rules.conditions import CONDITION_FIELDS, EFFECTS, HeaderCondition
from rules.policy import Policy
from rules.templates import DEFAULT_LABEL_TEMPLATE, check_template, render_label

__all__ = [
    "ACTION_KINDS",
    "CONDITION_FIELDS",
    "DEFAULT_INSTRUCTION",
    "EFFECTS",
    "IMAP_FLAGS",
    "ActionSpec",
    "Category",
    "HeaderCondition",
    "Policy",
    "RuleSet",
]

DEFAULT_INSTRUCTION = "Given an email, judge whether it belongs to the category described"


@dataclass(frozen=True)
class RuleSet:
    """A named set of categories scored under one instruction, with the policy that decides."""

    name: str
    instruction: str = DEFAULT_INSTRUCTION
    label_template: str = DEFAULT_LABEL_TEMPLATE
    categories: tuple[Category, ...] = ()  # a default only to keep the documented field order
    policy: Policy = field(default_factory=Policy)
    conditions: tuple[HeaderCondition, ...] = ()
    source: str = field(default="<memory>", compare=False)

    def __post_init__(self) -> None:
        checks.text(self.name, "name")
        checks.text(self.instruction, "instruction")
        checks.text(self.label_template, "label_template")
        try:
            check_template(self.label_template)
        except SchemaError as e:
            raise e.within(("label_template",)) from None
        _set(self, "categories", _tuple_of(self.categories, "categories", Category))
        _set(self, "conditions", _tuple_of(self.conditions, "conditions", HeaderCondition))
        if not isinstance(self.policy, Policy):
            raise SchemaError(("policy",), f"must be a Policy, got {self.policy!r}")
        if not self.categories:
            raise SchemaError(("categories",), "must list at least one category")
        seen: set[str] = set()
        for i, category in enumerate(self.categories):
            if category.name in seen:
                raise SchemaError(("categories", i, "name"), f"duplicate category name {category.name!r}")
            seen.add(category.name)
        if self.policy.fallback is not None and self.policy.fallback not in seen:
            raise SchemaError(("policy", "fallback"), self._unknown(self.policy.fallback))
        for i, condition in enumerate(self.conditions):
            if condition.category not in seen:
                raise SchemaError(("conditions", i, "category"), self._unknown(condition.category))

    def _unknown(self, name: str) -> str:
        return f"no category named {name!r}{checks.suggest(name, self.category_names())}"

    def category_names(self) -> list[str]:
        return [c.name for c in self.categories]

    def category(self, name: str) -> Category:
        """The category called ``name``; KeyError when there is none."""
        for category in self.categories:
            if category.name == name:
                return category
        raise KeyError(name)

    def label_texts(self) -> list[str]:
        """One rendered label text per category, in category order (what the backend scores)."""
        return [
            render_label(self.label_template, name=c.name, description=c.description, examples=c.examples)
            for c in self.categories
        ]

    def to_dict(self) -> dict[str, Any]:
        """The whole rule set as plain JSON-able data (without ``source``)."""
        return {
            "name": self.name,
            "instruction": self.instruction,
            "label_template": self.label_template,
            "policy": self.policy.to_dict(),
            "categories": [c.to_dict() for c in self.categories],
            "conditions": [c.to_dict() for c in self.conditions],
        }

    @cached_property
    def digest(self) -> str:
        """sha256 of the canonical JSON of :meth:`to_dict`: equal rule sets, equal digests."""
        return _sha256(self.to_dict())

    @cached_property
    def template_digest(self) -> str:
        """sha256 of instruction and label template: changes when the scored texts are phrased anew."""
        return _sha256([self.instruction, self.label_template])


def _sha256(data: Any) -> str:
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
