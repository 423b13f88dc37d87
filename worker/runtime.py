"""Per-process heavy resources: the scoring model and the live rule set.

Created once per worker process (Celery's ``worker_process_init`` warms it) and reused by every task.
The rule set is re-read when its file changes, so a rule edit needs no restart.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

from rules import RuleSet, load_rule_set
from worker.scoring.base import Scorer
from worker.scoring.registry import create_scorer
from worker.settings import Settings, get_settings


@dataclass
class Runtime:
    settings: Settings
    scorer: Scorer
    _rules: RuleSet
    _rules_mtime: float

    @property
    def rule_set(self) -> RuleSet:
        """The live rule set, reloaded if its file changed since the last look."""
        path = Path(self.settings.rules_path)
        try:
            mtime = path.stat().st_mtime
        except OSError:
            return self._rules  # keep routing with the last good rules
        if mtime != self._rules_mtime:
            self._rules = load_rule_set(path)
            self._rules_mtime = mtime
        return self._rules


_lock = threading.Lock()
_runtime: Runtime | None = None


def get_runtime() -> Runtime:
    """The process's runtime, built on first use."""
    global _runtime
    with _lock:
        if _runtime is None:
            settings = get_settings()
            path = Path(settings.rules_path)
            rules = load_rule_set(path)
            scorer = create_scorer(settings, cascade_top_m=rules.policy.cascade_top_m)
            _runtime = _learning(Runtime(settings, scorer, rules, path.stat().st_mtime))
        return _runtime


def set_runtime(runtime: Runtime | None) -> None:
    """Install a runtime (tests, benchmarks, the CLI with explicit options)."""
    global _runtime
    with _lock:
        _runtime = runtime


def build_runtime(settings: Settings, *, scorer: Scorer | None = None) -> Runtime:
    path = Path(settings.rules_path)
    rules = load_rule_set(path)
    if scorer is not None:  # the caller chose its scorer: used as given
        return Runtime(settings, scorer, rules, path.stat().st_mtime)
    scorer = create_scorer(settings, cascade_top_m=rules.policy.cascade_top_m)
    return _learning(Runtime(settings, scorer, rules, path.stat().st_mtime))


def _learning(runtime: Runtime) -> Runtime:
    """With ``settings.few_shot``, scores learn from reviewed mails (reloaded as corrections arrive)."""
    if runtime.settings.few_shot and runtime.settings.backend != "constant":
        from worker.learning.history import with_memory

        runtime.scorer = with_memory(runtime.scorer, runtime.settings, lambda: runtime.rule_set)
    return runtime
