"""Operations endpoints, open without login: ``/healthz`` and Prometheus ``/metrics``.

Neither shows mail content or secrets. ``/healthz`` answers 200 when the database (and the broker,
when one is configured) answer, else 503. The model check reports whether this process has loaded
its scorer; ``?require_model=1`` makes a missing model a failure too (a probe for a process that
must score, e.g. one serving the playground).
"""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from worker.db.telemetry import build_registry

router = APIRouter(include_in_schema=False)


def rules_error(state: Any) -> str | None:
    """Why the live rules file is not the one routing (re-read now), or None when it loads."""
    source = state.rule_set
    try:
        source()
    except Exception as e:  # no good version at all: the file's own error
        return str(e)
    return getattr(source, "error", None)


def check_database(request: Request) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        with request.app.state.session_factory() as session:
            session.execute(text("SELECT 1"))
    except Exception as e:
        return {"ok": False, "error": type(e).__name__}
    return {"ok": True, "ms": round((time.perf_counter() - started) * 1000, 1)}


def check_broker(request: Request) -> dict[str, Any]:
    url = request.app.state.settings.broker_url
    if not url:
        return {"ok": True, "mode": "in-process (no broker configured)"}
    try:
        from kombu import Connection

        with Connection(url, connect_timeout=2) as connection:
            connection.ensure_connection(max_retries=1, timeout=2)
    except Exception as e:
        return {"ok": False, "error": type(e).__name__}
    return {"ok": True, "mode": "broker"}


def check_model(request: Request) -> dict[str, Any]:
    provider = request.app.state.runtime
    loaded = getattr(provider, "loaded", lambda: True)()
    if not loaded:
        return {"ok": True, "loaded": False}
    try:
        return {"ok": True, "loaded": True, "model_id": provider().scorer.model_id}
    except Exception as e:
        return {"ok": False, "loaded": False, "error": type(e).__name__}


@router.get("/healthz")
def healthz(request: Request, require_model: bool = False) -> Response:  # noqa: FBT001, FBT002 - a query flag
    checks = {
        "database": check_database(request),
        "broker": check_broker(request),
        "model": check_model(request),
    }
    ok = checks["database"]["ok"] and checks["broker"]["ok"] and checks["model"]["ok"]
    if require_model and not checks["model"].get("loaded"):
        ok = False
    return JSONResponse({"status": "ok" if ok else "fail", "checks": checks}, status_code=200 if ok else 503)


@router.get("/metrics")
def metrics(request: Request) -> Response:
    state = request.app.state
    if not hasattr(state, "metrics_registry"):
        state.metrics_registry = build_registry(
            state.session_factory, state.settings.broker_url, rules_error=lambda: rules_error(state)
        )
    return Response(generate_latest(state.metrics_registry), media_type=CONTENT_TYPE_LATEST)
