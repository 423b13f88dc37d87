"""Conditions on where a mail was received, its attachments and its body; disabled categories and
conditions stay in the file without routing."""

from __future__ import annotations

import pytest

from rules import MessageFacts, decide, parse_rule_set
from worker.core.errors import RuleSetError

BASE = """\
name: conditions
policy: {mode: top_k, top_k: 1, threshold: 0.5}
categories:
  - {name: invoice, description: an invoice}
  - {name: other, description: anything else}
conditions:
"""
SCORES = {"invoice": 0.1, "other": 0.9}


def labels(condition: str, facts: MessageFacts) -> tuple[str, ...]:
    return decide(SCORES, facts, parse_rule_set(BASE + condition)).labels


@pytest.mark.parametrize(
    ("condition", "facts"),
    [
        (
            "  - {field: account, pattern: '^billing$', effect: force, category: invoice}",
            MessageFacts(account="billing"),
        ),
        (
            "  - {field: folder, contains: 'Invoices', effect: force, category: invoice}",
            MessageFacts(folder="INBOX/invoices"),
        ),
        (
            "  - {field: attachment_name, pattern: '\\.pdf$', effect: force, category: invoice}",
            MessageFacts(attachments=(("a.txt", "text/plain"), ("INV-7.PDF", "application/pdf"))),
        ),
        (
            "  - {field: attachment_type, contains: application/pdf, effect: force, category: invoice}",
            MessageFacts(attachments=(("", "application/pdf"),)),
        ),
        (
            "  - {field: body, contains: 'amount due (EUR)', effect: force, category: invoice}",
            MessageFacts(body="Total amount due (eur): 12"),
        ),
        (
            "  - {field: body, pattern: 'IBAN\\s+DE\\d+', effect: force, category: invoice}",
            MessageFacts(body="pay to iban DE12345"),
        ),
    ],
)
def test_a_condition_on_each_new_fact_forces_its_category(condition: str, facts: MessageFacts) -> None:
    assert labels(condition, facts) == ("invoice",)
    assert labels(condition, MessageFacts(account="x", folder="y", body="z")) == ("other",)


def test_contains_is_plain_text_not_a_regex() -> None:
    condition = "  - {field: body, contains: 'a.b', effect: force, category: invoice}"
    assert labels(condition, MessageFacts(body="axb")) == ("other",)
    assert labels(condition, MessageFacts(body="A.B")) == ("invoice",)


def test_pattern_or_contains_exactly_one() -> None:
    both = "  - {field: body, pattern: x, contains: x, effect: force, category: invoice}"
    with pytest.raises(RuleSetError, match=r"<string>:7: conditions\[0\]: give exactly one of pattern"):
        parse_rule_set(BASE + both)


def test_disabled_categories_and_conditions_do_not_route() -> None:
    text = BASE.replace(
        "  - {name: invoice, description: an invoice}",
        "  - {name: invoice, description: an invoice}\n  - {name: spam, description: junk, enabled: false}",
    )
    text += "  - {field: body, contains: pay, effect: force, category: invoice, enabled: false}\n"
    text += "  - {field: body, contains: pay, effect: forbid, category: spam}\n"
    rule_set = parse_rule_set(text)
    assert rule_set.category_names() == ["invoice", "other"]
    assert rule_set.conditions == ()  # one disabled, one about a disabled category
    assert decide(SCORES, MessageFacts(body="please pay"), rule_set).labels == ("other",)
    with pytest.raises(RuleSetError, match=r"<string>:5: categories\[1\].enabled: must be true or false"):
        parse_rule_set(text.replace("enabled: false}", "enabled: nope}", 1))
