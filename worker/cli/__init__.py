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


@app.callback()
def _group() -> None:
    """Keeps ``mailroute`` a group of sub-commands when only one is registered (see :func:`main`)."""


# Sub-command modules, each with the top-level names its ``register(app)`` adds. Missing optional
# modules are skipped.
COMMANDS: dict[str, tuple[str, ...]] = {
    "worker.cli.classify": ("classify",),
    "worker.cli.ingest": ("ingest",),
    "worker.cli.db": ("db",),
    "worker.cli.demo": ("demo",),
    "worker.cli.ops": ("requeue", "worker"),
    "worker.cli.eval": ("eval",),
    "worker.cli.backtest": ("backtest",),
    "worker.cli.prune": ("prune",),
    "worker.cli.health": ("healthcheck",),
    "worker.cli.poll": ("poll",),
    "worker.cli.admin": ("admin",),
    "worker.cli.rulesets": ("rules",),
}
COMMAND_MODULES = tuple(COMMANDS)
_registered: set[str] = set()  # the modules already registered on ``app``


def _register_all(modules: tuple[str, ...] = COMMAND_MODULES, target: typer.Typer = app) -> None:
    """Register these modules' commands; on ``app`` each module once, however often it is called."""
    for name in modules:
        if target is app and name in _registered:
            continue
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as e:
            if e.name == name:
                continue
            raise
        module.register(target)
        if target is app:
            _registered.add(name)


def modules_for(argv: list[str]) -> tuple[str, ...]:
    """The sub-command modules to import for this command line: only the named command's own when
    it is one (every other module's imports are start-up cost — ``mailroute poll`` imported alembic,
    the parser and the scoring front-end it never uses); all of them for ``--help`` or an unknown
    name, so that the help and the usage error list every command."""
    first = argv[0] if argv else ""
    owner = [module for module, names in COMMANDS.items() if first in names]
    return tuple(owner) or COMMAND_MODULES


def main() -> None:
    """Entry point: one clear line and exit status 2 for any expected error."""
    _configure_logging()
    _register_all(modules_for(sys.argv[1:]))
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
