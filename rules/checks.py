"""Field checks shared by the rule-set value objects.

Each check raises :class:`SchemaError` with the path of the offending field, relative to the object
being built; the loader prefixes the path of that object and adds the file and line.
"""

from __future__ import annotations

import difflib
import math
import numbers
from collections.abc import Iterable, Sequence
from typing import Any

from rules.errors import RuleSetError

KeyPath = tuple[str | int, ...]


def format_path(path: KeyPath) -> str:
    """``("categories", 2, "threshold")`` -> ``categories[2].threshold``."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


class SchemaError(RuleSetError):
    """A rule-set field is invalid; ``path`` locates it, ``detail`` says why."""

    def __init__(self, path: KeyPath, detail: str) -> None:
        self.path = path
        self.detail = detail
        super().__init__(f"{format_path(path)}: {detail}" if path else detail)

    def within(self, prefix: KeyPath) -> SchemaError:
        """The same error, seen from the object that contains the failing one."""
        return SchemaError(prefix + self.path, self.detail)


def suggest(word: str, choices: Iterable[str]) -> str:
    """``"; did you mean 'x'?"`` for a near miss, else the list of allowed values."""
    choices = list(choices)
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    if close:
        return f"; did you mean '{close[0]}'?"
    return f" (allowed: {', '.join(choices)})"


def text(value: Any, key: str, *, allow_empty: bool = False) -> str:
    if not isinstance(value, str):
        hint = " (quote it in YAML)" if isinstance(value, int | float) and not isinstance(value, bool) else ""
        raise SchemaError((key,), f"must be a string, got {value!r}{hint}")
    if not allow_empty and not value.strip():
        raise SchemaError((key,), "must not be empty")
    return value


def one_of(value: Any, key: str, allowed: Sequence[str]) -> str:
    if not isinstance(value, str) or value not in allowed:
        raise SchemaError(
            (key,), f"must be one of {', '.join(allowed)}, got {value!r}{suggest(str(value), allowed)}"
        )
    return value


def unit(value: Any, key: str) -> float:
    """A number in [0, 1]; ints are accepted, booleans are not."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0.0 <= value <= 1.0:
        raise SchemaError((key,), f"must be a number in [0, 1], got {value!r}")
    return float(value)


def optional_unit(value: Any, key: str) -> float | None:
    return None if value is None else unit(value, key)


def positive_int(value: Any, key: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise SchemaError((key,), f"must be an integer >= 1, got {value!r}")
    return value


def unit_range(value: Any, key: str) -> tuple[float, float]:
    """A ``[low, high]`` pair within [0, 1] with ``low <= high``."""
    if not isinstance(value, list | tuple) or len(value) != 2:
        raise SchemaError((key,), f"must be a pair [low, high], got {value!r}")
    low, high = (unit(v, key) for v in value)
    if low > high:
        raise SchemaError((key,), f"low must be <= high, got [{low}, {high}]")
    return low, high


def finite(value: Any) -> float | None:
    """The score as a float, or None when it is not a finite number."""
    # numbers.Real also admits numpy scalars (a float32 score matrix is the usual source)
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        return None
    return float(value)
