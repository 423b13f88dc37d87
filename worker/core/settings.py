"""One typed settings object, read from ``MAILROUTE_*`` environment variables.

Every field has a documented default: with no environment at all mailroute runs embedded (a SQLite
file, tasks executed in-process, the CPU embedding model). Secrets may be given as ``*_FILE`` paths.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# rules/ is the bottom layer and ships its examples as package data
# The scoring backends (worker.scoring.registry has one factory per name and checks it at import).
BACKEND_NAMES = ("embedding", "transformers", "vllm", "http", "constant")

# The Celery queues: classification, IMAP actions, webhook deliveries (each can have its own workers).
QUEUES = ("classify", "actions", "webhooks")

DEFAULT_RULES = Path(__file__).resolve().parents[2] / "rules" / "examples" / "office.yaml"


class Settings(BaseSettings):
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
    backend: str = Field(
        "embedding",
        description="Scoring backend: embedding, transformers, vllm, http or constant.",
    )
    model: str | None = Field(
        None,
        description="Model path or id for the backend. Default: the bundled all-MiniLM-L6-v2 "
        "(embedding) or Qwen/Qwen3-Reranker-4B (reranker backends).",
    )
    device: str = Field("cpu", description="torch device for the transformers backend (cpu, cuda).")
    embedding_runtime: Literal["torch", "onnx", "onnx-int8"] = Field(
        "onnx",
        description="Embedding backend on a CPU: onnx (ONNX Runtime, exported locally from the bundled "
        "weights on first use; same embeddings, faster), onnx-int8 (quantized) or torch "
        "(sentence-transformers). See docs/benchmarks.md.",
    )
    dtype: str = Field(
        "auto", description="Model dtype for reranker backends (auto, float16, bfloat16, float32)."
    )
    max_model_len: int = Field(2048, description="Token limit of one (mail, label) pair for rerankers.")
    gpu_memory_utilization: float = Field(0.85, description="vLLM: fraction of GPU memory to use.")
    tensor_parallel_size: int = Field(1, description="vLLM: GPUs per model.")
    vllm_kv_cache_bytes: int | None = Field(
        None, description="vLLM: KV-cache size in bytes (set it on CPU, e.g. 268435456; unset on GPU)."
    )
    vllm_enforce_eager: bool = Field(
        False, description="vLLM: disable CUDA graphs / compilation (CPU tests)."
    )
    http_url: str | None = Field(None, description="http backend: base URL of a `vllm serve` server.")
    http_timeout_s: float = Field(30.0, description="http backend: timeout per request in seconds.")
    broker_visibility_timeout_s: int = Field(
        3600,
        description="Redis broker: seconds before an unacknowledged task of a dead worker is re-delivered.",
    )
    constant_delay_ms: float = Field(
        0.0,
        description="constant backend only: pretend each batch takes this long (fault tests, benchmarks).",
    )
    batch_size: int = Field(32, description="Mails per classify task / scoring batch.")
    max_chars: int = Field(4000, description="Character budget of the text that is scored per mail.")
    subject_boilerplate_min: int = Field(
        3,
        ge=0,
        description="A subject shared by this many recent mails of a profile, and by 5% of them or more "
        "(Re:/Fwd:, case ignored), is boilerplate: left out of the scored text. 0 = always score it.",
    )
    max_message_bytes: int = Field(
        25 * 1024 * 1024, description="Mails larger than this are stored with headers and a note only."
    )
    score_cache_size: int = Field(10000, description="Entries of the in-memory score cache (0 = off).")
    admin_url: str = Field("http://127.0.0.1:8000", description="Public URL of the admin, for links.")
    admin_password_hash: SecretStr | None = Field(
        None, description="Admin login: a password hash made by `mailroute admin hash-password`."
    )
    admin_secret_key: SecretStr | None = Field(
        None, description="Key that signs admin session cookies. Unset: a random key per process."
    )
    admin_username: str = Field(
        "admin",
        description="Login name of the bootstrap admin (becomes the first database user at its first login).",
    )
    admin_api_token: SecretStr | None = Field(
        None, description="Bearer token for scripts calling the admin JSON API. Unset: API by login only."
    )
    admin_cookie_secure: bool = Field(
        True,
        description="Mark the admin session cookie Secure (HTTPS only). Turn off only for plain-HTTP "
        "development; browsers still send Secure cookies to http://localhost.",
    )
    admin_session_max_age_s: int = Field(8 * 3600, description="Admin session lifetime in seconds.")
    webhooks_file: Path | None = Field(
        None, description="YAML file of webhook endpoints (name -> url, secret, ...); see docs/webhooks.md."
    )
    webhook_timeout_s: float = Field(10.0, description="Webhooks: default timeout per delivery attempt.")
    webhook_max_attempts: int = Field(8, description="Webhooks: default attempts before the dead letter.")
    webhook_backoff_base_s: float = Field(5.0, description="Webhooks: first retry delay (doubles per try).")
    webhook_backoff_cap_s: float = Field(900.0, description="Webhooks: longest delay between two tries.")
    review_alert_endpoint: str | None = Field(
        None,
        description="Webhook endpoint told when a profile's review queue is too long or a mail waits too "
        "long (event review.queue_alert). Unset: no alerts (the dashboard still shows the queues).",
    )
    review_alert_queue: int = Field(
        50, ge=1, description="Review alert: mails waiting in one profile's queue."
    )
    review_alert_wait_s: int = Field(4 * 3600, ge=1, description="Review alert: the longest a mail may wait.")
    review_alert_every_s: int = Field(
        3600, ge=1, description="Review alert: at most one per profile this often."
    )
    webhook_concurrency: int = Field(
        8, ge=1, description="Webhooks: deliveries in flight at once per endpoint in one worker process."
    )
    accounts_file: Path | None = Field(
        None, description="YAML file of IMAP accounts and the folders to watch; see docs/imap.md."
    )
    allow_plaintext: bool = Field(
        False, description="IMAP: allow accounts with `tls: none` (password in clear; logged as a warning)."
    )
    poll_interval_s: float = Field(60.0, description="IMAP: seconds between polls on servers without IDLE.")
    idle_poll_s: float = Field(
        300.0,
        description="IMAP: with IDLE, poll anyway this often: the safety net for a notification "
        "a server failed to send (e.g. around a restart).",
    )
    idle_renew_s: float = Field(
        25 * 60.0, description="IMAP: re-issue IDLE after this many seconds (servers drop it at 29-30 min)."
    )
    backlog_limit: int = Field(
        1000, description="IMAP: on a folder's first poll, process only the newest N mails (0 = all)."
    )
    imap_fetch_batch: int = Field(100, description="IMAP: UIDs fetched and committed per batch.")
    imap_timeout_s: float = Field(60.0, description="IMAP: socket timeout of one command in seconds.")
    lease_ttl_s: float = Field(
        15.0,
        description="IMAP: a poller's lease on a folder expires this long after its last renewal "
        "(renewed every third of it); a poller killed -9 is taken over after this.",
    )
    few_shot: bool = Field(
        True,
        description="Learn from reviews: scores are calibrated probabilities from the rule set's learned "
        "classifier, retrained in the background after reviews (see worker/learning/scorer.py).",
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

    @field_validator("backend")
    @classmethod
    def _known_backend(cls, value: str) -> str:
        if value not in BACKEND_NAMES:
            raise ValueError(f"unknown backend {value!r}; choose one of {', '.join(sorted(BACKEND_NAMES))}")
        return value

    @property
    def eager(self) -> bool:
        """True when there is no broker: tasks run in the calling process."""
        return not self.broker_url


def redact_url(url: str | None) -> str:
    """A URL fit for logs and output: any password replaced by ***."""
    if not url:
        return ""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return parts._replace(netloc=netloc).geturl()
    return url


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment."""
    return Settings()
