"""What a category does to a mail: one :class:`ActionSpec` per action, checked when built.

The connectors own the behaviour of each kind; this module only states which kinds exist and what a
valid target looks like, so a typo fails at load time rather than at the first matching mail.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from rules import checks
from rules.checks import SchemaError

ACTION_KINDS = ("imap_keyword", "imap_flag", "imap_move", "gmail_label", "webhook")
# \Deleted is left out on purpose: routing moves mail (imap_move to a Trash folder), it never expunges
IMAP_FLAGS = ("\\Seen", "\\Answered", "\\Flagged", "\\Draft")
# RFC 3501 atom-specials: a keyword containing one of these cannot be stored by the server
_NOT_IN_KEYWORD = re.compile(r'[\s(){%*"\\\]\x00-\x1f\x7f]')


@dataclass(frozen=True)
class ActionSpec:
    """What to do with a mail of a category: ``kind`` applied to ``target`` with string ``params``."""

    kind: str
    target: str
    params: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        checks.one_of(self.kind, "kind", ACTION_KINDS)
        checks.text(self.target, "target")
        if self.kind == "imap_keyword" and _NOT_IN_KEYWORD.search(self.target):
            raise SchemaError(
                ("target",), f'IMAP keyword {self.target!r} may not contain spaces or (){{%*"\\]'
            )
        if self.kind == "imap_flag":
            checks.one_of(self.target, "target", IMAP_FLAGS)
        if not isinstance(self.params, Mapping):
            raise SchemaError(("params",), f"must be a mapping, got {self.params!r}")
        for key, value in self.params.items():
            if not isinstance(key, str) or not isinstance(value, str):
                raise SchemaError(("params", str(key)), f"must be a string, got {value!r}")
        object.__setattr__(self, "params", MappingProxyType(dict(self.params)))

    def __hash__(self) -> int:
        return hash((self.kind, self.target, tuple(sorted(self.params.items()))))

    def __reduce__(self) -> tuple[type[ActionSpec], tuple[str, str, dict[str, str]]]:
        return (ActionSpec, (self.kind, self.target, dict(self.params)))  # a mappingproxy cannot be pickled

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "target": self.target, "params": dict(self.params)}
