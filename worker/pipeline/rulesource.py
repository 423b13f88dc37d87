"""The live rule set: one source that the worker, the admin and reviews all read.

:class:`RuleSetSource` re-reads the rules file when it changes, so an edit needs no restart. A
version that fails to load never replaces the last good one: routing goes on with it, and the error
is kept (``error``) for the admin's banner, ``mailroute healthcheck`` and the log. Only the very first
load has nothing to fall back on and raises.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from rules import RuleSet, load_rule_set
from worker.core.errors import RuleSetError

log = logging.getLogger(__name__)


class RuleSetSource:
    """The rule set at ``path``, reloaded when its file changes; the last good one kept on errors."""

    def __init__(self, path: Path | str):
        self.path = Path(path)
        self._lock = threading.Lock()
        self._mtime = -1.0
        self._rules: RuleSet | None = None
        self.error: str | None = None  # why the file on disk is not the one routing, if it is not

    def __call__(self) -> RuleSet:
        with self._lock:
            try:
                mtime = self.path.stat().st_mtime
            except OSError as e:
                return self._fallback(RuleSetError(f"{self.path}: cannot read: {e.strerror or e}"))
            if self._rules is not None and mtime == self._mtime:
                return self._rules
            try:
                rules = load_rule_set(self.path)
            except RuleSetError as e:
                self._mtime = mtime  # do not re-parse the same broken file on every call
                return self._fallback(e)
            if self.error is not None:
                log.warning("rule set %s loads again; routing with it", self.path)
            self._rules, self._mtime, self.error = rules, mtime, None
            return rules

    def _fallback(self, error: RuleSetError) -> RuleSet:
        if self._rules is None:
            raise error
        if self.error != str(error):
            log.error("rule set %s is invalid; still routing with the last good one: %s", self.path, error)
        self.error = str(error)
        return self._rules


_sources: dict[Path, RuleSetSource] = {}
_sources_lock = threading.Lock()


def rule_set_source(path: Path | str) -> RuleSetSource:
    """The process's one source for ``path`` (shared, so every reader sees the same last good set)."""
    key = Path(path).resolve()
    with _sources_lock:
        source = _sources.get(key)
        if source is None:
            source = _sources[key] = RuleSetSource(key)
        return source
