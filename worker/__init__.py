"""mailroute's worker: settings, models, parsing, scoring, pipeline, Celery app and CLI.

``celery -A worker worker`` finds the app through :func:`__getattr__`, so importing a submodule such
as ``worker.parsing.message`` stays cheap (no Celery, no model).
"""

from typing import Any


def __getattr__(name: str) -> Any:
    if name in ("app", "celery"):
        from worker.tasks.app import app

        return app
    raise AttributeError(f"module 'worker' has no attribute {name!r}")
