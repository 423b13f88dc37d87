"""The settings of mailroute's edges: the admin, webhooks and review alerts, IMAP accounts."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings


class EdgeSettings(BaseSettings):
    """The admin, webhook and IMAP fields of :class:`~worker.core.settings.Settings` (a base of it)."""

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
