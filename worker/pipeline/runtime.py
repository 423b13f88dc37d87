"""Per-process heavy resources: the scoring model and the live rule set.

Created once per worker process (Celery's ``worker_process_init`` warms it) and reused by every task.
The rule set is re-read when its file changes, so a rule edit needs no restart; the published rule sets
of the routing profiles (:mod:`worker.pipeline.profiles`) are checked per batch.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from rules import RuleSet
from worker.core.settings import Settings, get_settings
from worker.db.session import session_factory
from worker.pipeline.profiles import ProfileSources
from worker.pipeline.rulesource import rule_set_source
from worker.scoring.base import Scorer
from worker.scoring.registry import create_scorer, learns_from_reviews


@dataclass
class Runtime:
    settings: Settings
    scorer: Scorer
    rules: Callable[[], RuleSet]  # a RuleSetSource in production; any provider in tests
    # the published rule sets per routing profile (None: every mail is routed by ``rules``)
    profiles: ProfileSources | None = field(default=None)

    @property
    def rule_set(self) -> RuleSet:
        """The live rule set, reloaded if its file changed (the last good one kept on errors)."""
        return self.rules()


_lock = threading.Lock()
_runtime: Runtime | None = None


def get_runtime() -> Runtime:
    """The process's runtime, built on first use."""
    global _runtime
    with _lock:
        if _runtime is None:
            _runtime = build_runtime(get_settings())
        return _runtime


def set_runtime(runtime: Runtime | None) -> None:
    """Install a runtime (tests, benchmarks, the CLI with explicit options)."""
    global _runtime
    with _lock:
        _runtime = runtime


def build_runtime(settings: Settings, *, scorer: Scorer | None = None) -> Runtime:
    """A runtime for ``settings``: the live rule-set source, and ``scorer`` or the configured backend."""
    source = rule_set_source(settings.rules_path)
    rules = source()
    profiles = ProfileSources(session_factory(settings.database_url), rules_path=settings.rules_path)
    if scorer is not None:  # the caller chose its scorer: used as given
        return Runtime(settings, scorer, source, profiles)
    scorer = create_scorer(settings, cascade_top_m=rules.policy.cascade_top_m)
    return _learning(Runtime(settings, scorer, source, profiles))


def _learning(runtime: Runtime) -> Runtime:
    """With ``settings.few_shot``, scores are calibrated probabilities learned from reviewed mails.

    The rule set's newest learned model (retrained in the background as reviews arrive) is picked up
    per batch; see worker/learning/scorer.py.
    """
    if runtime.settings.few_shot and learns_from_reviews(runtime.settings.backend):
        from worker.learning.live import with_learning

        runtime.scorer = with_learning(runtime.scorer, runtime.settings, lambda: runtime.rule_set, live=True)
    return runtime
