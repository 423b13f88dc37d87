"""Rendering the label text a backend scores for each category.

A ``label_template`` is a ``str.format``-style string with three placeholders: ``{name}``,
``{description}`` and ``{examples}`` (the category's examples joined by ``"; "``, empty when it has
none — or one per line when ``{examples}`` stands alone on its template line, so that the embedding
backend reads each line as one phrasing of the label and averages them into a prototype).
``{{`` and ``}}`` write literal braces. Templates are checked when the rule set is built, and rendering
never interprets braces inside the substituted values, so a description such as
``"JSON like {"a": 1}"`` renders as written. Attribute or index access, conversions and format specs
(``{name.upper}``, ``{name!r}``, ``{name:>9}``) are refused: a template is data, not code.
"""

from __future__ import annotations

import string
from collections.abc import Sequence

from rules.checks import SchemaError, suggest

DEFAULT_LABEL_TEMPLATE = "{description}"
PLACEHOLDERS = ("name", "description", "examples")
EXAMPLE_SEPARATOR = "; "

_Piece = tuple[str, str | None]


def _parse(template: str) -> list[_Piece]:
    """The template as (literal text, placeholder or None) pieces; raises SchemaError when invalid."""
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as e:
        raise SchemaError((), f"{e} (write {{{{ or }}}} for a literal brace)") from e
    pieces: list[_Piece] = []
    for literal, field, spec, conversion in parsed:
        if field is not None and field not in PLACEHOLDERS:
            if field.split(".")[0].split("[")[0] in PLACEHOLDERS:
                raise SchemaError((), f"placeholder {{{field}}} may not use attributes or indexes")
            names = [f"{{{p}}}" for p in PLACEHOLDERS]
            raise SchemaError((), f"unknown placeholder {{{field}}}{suggest(f'{{{field}}}', names)}")
        if spec or conversion:
            raise SchemaError((), f"placeholder {{{field}}} may not have a conversion or format spec")
        pieces.append((literal, field))
    return pieces


def check_template(template: str) -> None:
    """Raise SchemaError unless ``template`` renders a distinct text per category."""
    fields = {field for _, field in _parse(template)}
    if not fields & {"name", "description"}:
        raise SchemaError((), "must contain {name} or {description}, or every label would read the same")


def render_label(template: str, *, name: str, description: str, examples: Sequence[str] = ()) -> str:
    """The label text for one category: whitespace in values collapsed, the result stripped."""
    cleaned = [" ".join(e.split()) for e in examples]
    values = {
        "name": " ".join(name.split()),
        "description": " ".join(description.split()),
        "examples": EXAMPLE_SEPARATOR.join(cleaned),
    }
    pieces = _parse(template)
    out: list[str] = []
    for i, (literal, field) in enumerate(pieces):
        out.append(literal)
        if field is None:
            continue
        after = pieces[i + 1][0] if i + 1 < len(pieces) else ""
        own_line = "".join(out).endswith("\n") or not "".join(out).strip()
        if field == "examples" and own_line and (not after or after.startswith("\n")):
            out.append("\n".join(cleaned))
        else:
            out.append(values[field])
    return "".join(out).strip()
