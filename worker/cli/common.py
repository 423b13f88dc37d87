"""Options and helpers shared by sub-commands."""

from __future__ import annotations

import os
from pathlib import Path

import typer

from worker.core.settings import Settings, get_settings

RulesOption = typer.Option(None, "--rules", "-r", help="Rule-set YAML (default: MAILROUTE_RULES_PATH).")
BackendOption = typer.Option(
    None, "--backend", "-b", help="embedding | transformers | vllm | http | constant (default: settings)."
)
JsonOption = typer.Option(False, "--json", help="Print one JSON object instead of tables.")


def settings_with(*, rules: Path | None = None, backend: str | None = None, **extra: object) -> Settings:
    """The environment's settings with command-line overrides applied (validated)."""
    base = get_settings().model_dump()
    if rules is not None:
        base["rules_path"] = rules
    if backend is not None:
        base["backend"] = backend
    base.update({k: v for k, v in extra.items() if v is not None})
    from pydantic import ValidationError

    from worker.core.errors import ConfigError

    try:
        return Settings.model_validate(base)
    except ValidationError as e:
        first = e.errors()[0]
        raise ConfigError(f"{'.'.join(map(str, first['loc']))}: {first['msg']}") from e


def quiet_libraries() -> None:
    """Keep model-loading chatter (progress bars, HF warnings) off the user's terminal."""
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
