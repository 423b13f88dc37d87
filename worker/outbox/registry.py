"""The outbox's executors: one per action kind, registered by the connector modules that define them.

Executors register themselves with :func:`register` when their module is imported; the wiring layer
(:mod:`worker.tasks.executors`) imports every one explicitly and :func:`check_executors` refuses to
start when an action kind of the rule language has none. :mod:`worker.outbox.runner` looks them up
in :data:`EXECUTORS`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy.orm import Session

from worker.core.errors import ConfigError
from worker.db.models import Action, Message


class NotApplicable(Exception):
    """The action cannot apply to this message (e.g. an IMAP action for a mail from a file)."""


class ActionExecutor(Protocol):
    def apply(self, session: Session, action: Action, message: Message) -> int | None:
        """Make the effect present (or absent, per ``action.desired``); return a status code if any.

        Raise TransientError to retry later, ConnectorError to fail, NotApplicable to skip.
        """


@dataclass(frozen=True)
class Applied:
    """A batch executor's 'done' for one row when it knows more than None says: status code, own time."""

    status_code: int | None = None
    duration_ms: float | None = None


class BatchExecutor(ActionExecutor, Protocol):
    def apply_many(
        self, session: Session, items: Sequence[tuple[Action, Message]]
    ) -> dict[int, BaseException | Applied | None]:
        """Apply every (action, message); action id → None (or Applied) when done, else the exception."""


EXECUTORS: dict[str, ActionExecutor] = {}


def register(kind: str, executor: ActionExecutor) -> None:
    EXECUTORS[kind] = executor


def check_executors(kinds: Iterable[str]) -> None:
    """Raise ConfigError naming every action kind with no registered executor (called at start-up)."""
    missing = sorted(set(kinds) - set(EXECUTORS))
    if missing:
        raise ConfigError(f"no executor registered for action kind(s): {', '.join(missing)}")
