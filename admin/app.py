"""The admin web app: ``create_app(settings)`` builds it; ``mailroute admin serve`` runs it.

Server-rendered Jinja2 pages (autoescaped; a mail's HTML is never rendered, only its text) and a JSON
API under ``/api``. Every route needs a login but ``/healthz``, ``/metrics``, ``/login`` and
``/static``: pages redirect anonymous visitors to the login page, the API answers 401. Each route
also needs a role (viewer, reviewer, admin — ``admin.deps.require_page``/``require_api``) and shows
only the messages of the profiles the user is given (``admin.scope``). No page loads
anything from another origin (a strict Content-Security-Policy says so to the browser).

This module wires the app together; the pages' templates are set up in :mod:`admin.templating`, what
wraps every request (session, CSRF key, security headers, error answers) in :mod:`admin.middleware`.
"""

from __future__ import annotations

import logging
import secrets
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

from fastapi import Depends, FastAPI
from fastapi.staticfiles import StaticFiles

from admin.auth import Authenticator
from admin.inputs import reject_nul
from admin.middleware import _install_handlers
from admin.templating import templates
from rules import RuleSet
from worker.core.settings import Settings, get_settings
from worker.db.models import DEFAULT_PROFILE
from worker.db.session import session_factory
from worker.pipeline.profiles import ProfileSources
from worker.pipeline.runtime import Runtime, build_runtime

log = logging.getLogger(__name__)
HERE = Path(__file__).resolve().parent


def _lazy_runtime(settings: Settings) -> Callable[[], Runtime]:
    lock, holder = threading.Lock(), list[Runtime]()

    def provide() -> Runtime:
        with lock:
            if not holder:
                holder.append(build_runtime(settings))
            return holder[0]

    provide.loaded = lambda: bool(holder)  # type: ignore[attr-defined]
    return provide


def _default_enqueue(action_ids: Sequence[int]) -> None:
    """After a review: queue its actions, and the retrain of the learned model (a no-op if unchanged)."""
    from worker.tasks import enqueue_actions, enqueue_retrain

    enqueue_actions(action_ids)
    enqueue_retrain()


def create_app(
    settings: Settings | None = None,
    *,
    runtime_provider: Callable[[], Runtime] | None = None,
    rule_set_provider: Callable[[], RuleSet] | None = None,
    enqueue: Callable[[Sequence[int]], None] | None = None,
) -> FastAPI:
    """The admin app for ``settings`` (default: the environment's). Tests inject the rest."""
    settings = settings or get_settings()
    from admin import api, api_message, api_playground, ops
    from admin.views import audit as views_audit
    from admin.views import auth as views_auth
    from admin.views import browse as views_browse
    from admin.views import dashboard as views_dashboard
    from admin.views import learning as views_learning
    from admin.views import message as views_message
    from admin.views import people as views_people
    from admin.views import playground as views_playground
    from admin.views import review as views_review
    from admin.views import rulesets as views_rulesets

    app = FastAPI(
        title="mailroute admin API",
        version="1",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        dependencies=[Depends(reject_nul)],
        description="Review queue, decisions, messages and statistics of mailroute. Authenticate with "
        "`Authorization: Bearer <token>` (a user's token, or MAILROUTE_ADMIN_API_TOKEN) or a login session "
        "(+ `X-CSRF-Token` to write).",
    )
    secret = settings.admin_secret_key.get_secret_value() if settings.admin_secret_key else None
    if secret is None:
        log.warning("MAILROUTE_ADMIN_SECRET_KEY is not set: sessions end when the admin restarts")
    app.state.secret = secret or secrets.token_urlsafe(32)
    app.state.settings = settings
    app.state.auth = Authenticator(settings, app.state.secret)
    app.state.session_factory = session_factory(settings.database_url)
    app.state.runtime = runtime_provider or _lazy_runtime(settings)
    app.state.profiles = ProfileSources(app.state.session_factory, rules_path=settings.rules_path)
    # the default profile's published rule set (bootstrapped from MAILROUTE_RULES_PATH)
    app.state.rule_set = rule_set_provider or app.state.profiles.source(DEFAULT_PROFILE)
    app.state.rule_set_injected = rule_set_provider is not None
    app.state.enqueue = enqueue or _default_enqueue
    app.state.templates = templates()
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    for module in (
        ops,
        views_auth,
        views_review,
        views_message,
        views_browse,
        views_dashboard,
        views_playground,
        views_learning,
        views_people,
        views_audit,
        views_rulesets,
        api,
        api_message,
        api_playground,
    ):
        app.include_router(module.router)
    app.include_router(views_audit.api_router)
    _install_handlers(app)
    return app
