"""Rule sets: categories with their actions, a policy, header conditions, and the pure engine.

Load with :func:`load_rule_set`, score ``rule_set.label_texts()`` under ``rule_set.instruction``,
then :func:`decide`. See ``rules/README.md`` for the YAML format.
"""

from rules.checks import SchemaError
from rules.engine import Decision, decide
from rules.loader import load_rule_set, parse_rule_set
from rules.matching import MessageFacts
from rules.policy import Policy
from rules.schema import ActionSpec, Category, HeaderCondition, RuleSet
from rules.templates import check_template, render_label

__all__ = [
    "ActionSpec",
    "Category",
    "Decision",
    "HeaderCondition",
    "MessageFacts",
    "Policy",
    "RuleSet",
    "SchemaError",
    "check_template",
    "decide",
    "load_rule_set",
    "parse_rule_set",
    "render_label",
]
