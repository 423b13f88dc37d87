"""The live rule set: one source that the worker, the admin and reviews all read.

:class:`RuleSetSource` re-reads the rules file when it changes, so an edit needs no restart. A
version that fails to load never replaces the last good one: routing goes on with it, and the error
is kept (``error``) for the admin's banner, ``mailroute healthcheck rules``, the
``mailroute_rules_valid`` metric and the log.

Each good version is also copied to :func:`last_good_path` (in the temp directory), so a process that
starts while the file is broken — a Celery child replaced after its task limit or a crash, a restarted
worker in the same container — routes with the last good set too instead of failing every task. Only a
process with neither a good file nor a copy raises.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
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
            save_last_good(self.path)
            return rules

    def _fallback(self, error: RuleSetError) -> RuleSet:
        if self._rules is None:
            self._rules = load_last_good(self.path)
            if self._rules is None:
                raise error
        if self.error != str(error):
            log.error("rule set %s is invalid; still routing with the last good one: %s", self.path, error)
        self.error = str(error)
        return self._rules


def last_good_path(path: Path) -> Path:
    """Where the last good copy of the rules file ``path`` is kept (shared by a host's processes)."""
    digest = hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"mailroute-rules-last-good-{digest}.yaml"


def save_last_good(path: Path) -> None:
    """Copy the rules file that just loaded (atomically; a failure to copy is only logged)."""
    target = last_good_path(path)
    try:
        data = path.read_bytes()
        if target.exists() and target.read_bytes() == data:
            return
        partial = target.with_suffix(f".{os.getpid()}.tmp")
        partial.write_bytes(data)
        partial.replace(target)
    except OSError as e:
        log.warning("cannot keep a last good copy of %s: %s", path, e)


def load_last_good(path: Path) -> RuleSet | None:
    """The last good copy of ``path``, or None when there is none (or it no longer loads)."""
    copy = last_good_path(path)
    try:
        return load_rule_set(copy) if copy.exists() else None
    except RuleSetError:
        return None


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
