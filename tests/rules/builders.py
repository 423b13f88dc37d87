"""Builders for rule-set test data: short calls with sensible defaults, overridable per test."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rules import ActionSpec, Category, HeaderCondition, MessageFacts, Policy, RuleSet


def make_category(
    name: str,
    *,
    description: str | None = None,
    threshold: float | None = None,
    actions: Sequence[ActionSpec] | None = None,
    examples: Sequence[str] = (),
) -> Category:
    """A category whose default action is an IMAP keyword named after it."""
    keyword = name.replace(" ", "-")
    return Category(
        name=name,
        description=description if description is not None else f"mail about {name}",
        threshold=threshold,
        actions=tuple(actions) if actions is not None else (ActionSpec("imap_keyword", keyword),),
        examples=tuple(examples),
    )


def make_rule_set(
    categories: Sequence[str | Category] = ("a", "b", "c"),
    *,
    conditions: Sequence[HeaderCondition] = (),
    label_template: str = "{description}",
    **policy: Any,
) -> RuleSet:
    """A rule set over ``categories`` (names or built categories); keywords go to :class:`Policy`."""
    built = tuple(c if isinstance(c, Category) else make_category(c) for c in categories)
    return RuleSet(
        name="test",
        categories=built,
        label_template=label_template,
        policy=Policy(**policy),
        conditions=tuple(conditions),
    )


def make_facts(
    *,
    sender: str = "Alice <alice@example.com>",
    recipients: Sequence[str] = ("team@example.com",),
    subject: str = "Hello",
    list_id: str | None = None,
) -> MessageFacts:
    return MessageFacts(sender=sender, recipients=tuple(recipients), subject=subject, list_id=list_id)


def condition(field: str, pattern: str, effect: str, category: str) -> HeaderCondition:
    return HeaderCondition(field=field, pattern=pattern, effect=effect, category=category)  # type: ignore[arg-type]


YAML_MINIMAL = """\
name: minimal
categories:
  - name: a
    description: mail about a
  - name: b
    description: mail about b
"""


def yaml_with(**sections: str) -> str:
    """A valid YAML rule set with whole top-level sections replaced (values are raw YAML text)."""
    parts = {
        "name": "name: sample",
        "instruction": "instruction: Judge the category",
        "policy": "policy:\n  mode: top_k\n  fallback: b",
        "categories": (
            "categories:\n"
            "  - name: a\n"
            "    description: mail about a\n"
            "    actions:\n"
            "      - {kind: imap_keyword, target: a}\n"
            "  - name: b\n"
            "    description: mail about b\n"
            "    threshold: 0.7"
        ),
        "conditions": "conditions:\n  - {field: from, pattern: 'x@y', effect: force, category: a}",
    }
    parts.update(sections)
    return "\n".join(v for v in parts.values() if v) + "\n"
