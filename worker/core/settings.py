"""One typed settings object, read from ``MAILROUTE_*`` environment variables.

Every field has a documented default: with no environment at all mailroute runs embedded (a SQLite
file, tasks executed in-process, the CPU embedding model). Secrets may be given as ``*_FILE`` paths.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import Field, model_validator
from pydantic_settings import SettingsConfigDict

from worker.core.edge_settings import EdgeSettings

# moved out, still imported from here: URL redaction, the scoring backends' names
from worker.core.redaction import redact_url as redact_url
from worker.core.scoring_settings import BACKEND_NAMES as BACKEND_NAMES
from worker.core.scoring_settings import ScoringSettings

# The Celery queues: classification, IMAP actions, webhook deliveries (each can have its own workers).
QUEUES = ("classify", "actions", "webhooks")

# rules/ is the bottom layer and ships its examples as package data
DEFAULT_RULES = Path(__file__).resolve().parents[2] / "rules" / "examples" / "office.yaml"


class Settings(EdgeSettings, ScoringSettings):
    """mailroute's configuration. Environment variable = ``MAILROUTE_`` + field name, upper case."""

    model_config = SettingsConfigDict(env_prefix="MAILROUTE_", extra="ignore")

    @model_validator(mode="before")
    @classmethod
    def _secret_files(cls, data: Any) -> Any:
        """``MAILROUTE_X_FILE=/run/secrets/x`` sets ``x`` from that file (Docker/Kubernetes secrets)."""
        if not isinstance(data, dict):
            return data
        for name in cls.model_fields:
            path = os.environ.get(f"MAILROUTE_{name.upper()}_FILE")
            if path and name not in data and f"MAILROUTE_{name.upper()}" not in os.environ:
                try:
                    data[name] = Path(path).read_text().strip()
                except OSError as e:
                    raise ValueError(
                        f"MAILROUTE_{name.upper()}_FILE: cannot read {path}: {e.strerror}"
                    ) from e
        return data

    database_url: str = Field(
        "sqlite:///mailroute.db",
        description="SQLAlchemy URL. Default: a SQLite file in the working directory.",
    )
    broker_url: str | None = Field(
        None,
        description="Celery broker (e.g. redis://127.0.0.1:6379/0). Unset: tasks run in-process.",
    )
    rules_path: Path = Field(DEFAULT_RULES, description="The live rule-set YAML file.")
    broker_visibility_timeout_s: int = Field(
        3600,
        description="Redis broker: seconds before an unacknowledged task of a dead worker is re-delivered.",
    )
    max_message_bytes: int = Field(
        25 * 1024 * 1024, description="Mails larger than this are stored with headers and a note only."
    )
    few_shot: bool = Field(
        True,
        description="Learn from reviews: scores are calibrated probabilities from the rule set's learned "
        "classifier, retrained in the background after reviews (see worker/learning/scorer.py).",
    )
    neighbours: int = Field(
        10,
        ge=0,
        description="With a learned model, pool each mail's probabilities with those of its this many "
        "most similar recent mails (worker/learning/neighbours.py); 0 turns pooling off.",
    )
    neighbour_weight: float = Field(
        0.4, ge=0.0, le=1.0, description="Weight of the recent neighbours in that pool (0 to 1)."
    )
    neighbour_memory: int = Field(
        5000,
        ge=1,
        description="Recent decided mails per rule set that the pool looks among "
        "(the mail_vectors table keeps twice as many).",
    )
    threshold_min_examples: int = Field(
        30,
        description="Reviewed mails a label needs before its learned threshold overrides the configured one.",
    )
    shadow_rules_path: Path | None = Field(
        None,
        description="A shadow rule set decided beside the live one (Decision.mode 'shadow'; never acts).",
    )
    log_json: bool = Field(False, description="Emit structured JSON log lines.")
    log_level: str = Field("INFO", description="Python logging level.")

    @property
    def eager(self) -> bool:
        """True when there is no broker: tasks run in the calling process."""
        return not self.broker_url


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment."""
    return Settings()
