"""Label texts from label_template: the three placeholders, safe braces, refused format tricks."""

from __future__ import annotations

import pytest

from rules import SchemaError, check_template, render_label
from tests.rules.builders import make_category, make_rule_set


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("{description}", "Bills and refunds."),
        ("{name}: {description}", "billing: Bills and refunds."),
        ("{description} Examples: {examples}", "Bills and refunds. Examples: charged twice; refund please"),
        ("{{{name}}}", "{billing}"),
        ("  {name}\n", "billing"),
    ],
)
def test_render_label(template: str, expected: str) -> None:
    examples = ("charged twice", "refund please")
    assert (
        render_label(template, name="billing", description="Bills and refunds.", examples=examples)
        == expected
    )


def test_examples_placeholder_is_empty_without_examples() -> None:
    assert render_label("{name} {examples}", name="a", description="d") == "a"


@pytest.mark.parametrize(
    "value",
    ['JSON like {"a": 1}', "a stray } brace", "{name}", "{0}", "{description.__class__}", "100% {"],
)
def test_braces_in_values_are_kept_as_written(value: str) -> None:
    assert render_label("{name}: {description}", name="n", description=value) == f"n: {value}"
    assert render_label("{description}", name="n", description="d", examples=[value]) == "d"


def test_whitespace_in_values_is_collapsed() -> None:
    text = render_label(
        "{description} / {examples}", name="n", description="two\n  lines\t", examples=["a\nb"]
    )
    assert text == "two lines / a b"


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("{nmae}", "unknown placeholder {nmae}; did you mean '{name}'?"),
        ("{}", "unknown placeholder {}"),
        ("{0}", "unknown placeholder {0}"),
        ("{description.__class__}", "placeholder {description.__class__} may not use attributes or indexes"),
        ("{name[0]}", "placeholder {name[0]} may not use attributes or indexes"),
        ("{name!r}", "placeholder {name} may not have a conversion or format spec"),
        ("{name:>20}", "placeholder {name} may not have a conversion or format spec"),
        ("{description", "expected '}' before end of string (write {{ or }} for a literal brace)"),
        ("description}", "Single '}' encountered in format string"),
        ("plain text", "must contain {name} or {description}"),
        ("{examples}", "must contain {name} or {description}"),
    ],
)
def test_bad_templates_are_refused(template: str, message: str) -> None:
    with pytest.raises(SchemaError) as info:
        check_template(template)
    assert str(info.value).startswith(message)


def test_rule_set_refuses_a_bad_template_naming_the_key() -> None:
    with pytest.raises(SchemaError, match=r"^label_template: unknown placeholder \{title\}"):
        make_rule_set(label_template="{title}")


def test_label_texts_in_category_order() -> None:
    rule_set = make_rule_set(
        (make_category("b", description="B {x}", examples=["eb"]), make_category("a", description="A")),
        label_template="{name} | {description} | {examples}",
    )
    assert rule_set.label_texts() == ["b | B {x} | eb", "a | A |"]


def test_examples_alone_on_a_line_render_one_per_line() -> None:
    from rules.templates import render_label

    lines = render_label("{description}\n{examples}", name="n", description="d", examples=["a  b", "c"])
    inline = render_label("{description}: {examples}", name="n", description="d", examples=["a", "c"])
    assert lines == "d\na b\nc" and inline == "d: a; c"
