"""The background retrain: a thin task over :func:`worker.learning.live.retrain`.

Queued after every review (the admin's enqueue hook) and safe to queue often: it stores a new
version only when the reviews changed since the newest one, and every worker picks that version up
on its next batch (:class:`worker.learning.live.ModelSource`), with no restart.
"""

from __future__ import annotations

from worker.db.session import session_scope
from worker.learning.live import retrain as retrain_model
from worker.learning.scorer import LearnedScorer
from worker.pipeline.runtime import get_runtime
from worker.tasks.app import app
from worker.tasks.retry import TRANSIENT


@app.task(name="mailroute.retrain", **TRANSIENT, retry_backoff_max=300, max_retries=5)
def retrain() -> int | None:
    """Train the live rule set's learned model from the reviews; the new version, or None."""
    runtime = get_runtime()
    scorer = runtime.scorer
    if not isinstance(scorer, LearnedScorer):  # learning is off for this backend or these settings
        return None
    with session_scope() as session:
        return retrain_model(
            session,
            runtime.rule_set,
            scorer,
            max_chars=runtime.settings.max_chars,
            boilerplate_min=runtime.settings.subject_boilerplate_min,
        )


def enqueue_retrain() -> None:
    retrain.delay()
