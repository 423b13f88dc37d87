"""Explicit registration of every action executor, checked at start-up.

Each connector module registers its executors with :func:`worker.outbox.registry.register` when it is
imported; this module imports them by name (no module-name strings), so a new action kind is wired
by adding one import here. :func:`install_executors` then checks that every action kind of the rule
language has an executor, so a forgotten one stops the worker at start-up instead of skipping actions.
"""

from __future__ import annotations

import connectors.imap.actions
import connectors.webhook.delivery
from rules.actions import ACTION_KINDS
from worker.outbox.registry import EXECUTORS, check_executors

MODULES = (connectors.imap.actions, connectors.webhook.delivery)


def install_executors() -> dict[str, object]:
    """Make sure every executor is registered; raise ConfigError for a kind without one."""
    check_executors(ACTION_KINDS)
    return dict(EXECUTORS)
