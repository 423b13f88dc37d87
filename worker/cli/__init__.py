"""The ``mailroute`` command line. Each sub-command lives in its own module of this package."""

from __future__ import annotations

import importlib
import logging
import sys

import typer

from worker.core.errors import MailrouteError

app = typer.Typer(
    name="mailroute",
    help="Event-driven mail routing: score mail against labelled categories, decide by rules, act.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

# Sub-command modules; each defines ``register(app)``. Missing optional ones are skipped.
COMMAND_MODULES = (
    "worker.cli.classify",
    "worker.cli.ingest",
    "worker.cli.db",
    "worker.cli.demo",
    "worker.cli.ops",
    "worker.cli.eval",
    "worker.cli.backtest",
    "worker.cli.prune",
    "worker.cli.health",
    "worker.cli.poll",
    "worker.cli.admin",
    "worker.cli.rulesets",
)


def _register_all() -> None:
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as e:
            if e.name == name:
                continue
            raise
        module.register(app)


def main() -> None:
    """Entry point: one clear line and exit status 2 for any expected error."""
    _configure_logging()
    _register_all()
    try:
        app()
    except MailrouteError as e:
        print(f"mailroute: error: {e}", file=sys.stderr)
        sys.exit(2)


def _configure_logging() -> None:
    """JSON or plain lines (MAILROUTE_LOG_JSON) at MAILROUTE_LOG_LEVEL (INFO by default, as the settings
    table says): a poller's ``reconnected`` and an action's ``-> dead`` are seen without asking."""
    from worker.core.logs import configure_logging
    from worker.core.settings import get_settings

    try:
        settings = get_settings()
    except ValueError:  # a bad setting: the command that reads it reports it in one line
        logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
        return
    configure_logging(settings)
