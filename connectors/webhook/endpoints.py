"""Webhook endpoints: where a ``{kind: webhook, target: NAME}`` action goes, and with which secret.

Rule sets only name an endpoint; URLs and secrets live in their own YAML file
(``MAILROUTE_WEBHOOKS_FILE``) so rules can be shared and reviewed without secrets, and a secret can be
rotated without touching rules. A secret comes from a file or an environment variable (inline only for
local tests) and never appears in a repr, a log line or an error message. The file is re-read when it
changes, so adding an endpoint needs no restart.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from connectors.webhook.signing import standard_key
from worker.core.errors import ConfigError
from worker.core.settings import Settings, get_settings

SECRET_SOURCES = ("secret", "secret_file", "secret_env")
KNOWN_KEYS = {"url", "timeout_s", "max_attempts", *SECRET_SOURCES}


@dataclass(frozen=True)
class Endpoint:
    """One receiver. ``secret`` is excluded from repr so a logged endpoint cannot leak it."""

    name: str
    url: str
    secret: bytes = field(repr=False)
    timeout_s: float = 10.0
    max_attempts: int = 8

    def __post_init__(self) -> None:
        parts = urlsplit(self.url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("url: must be an absolute http:// or https:// URL")
        if not self.secret:
            raise ValueError("secret: is empty")
        standard_key(self.secret)  # a whsec_ secret must decode: fail at load, not at the first POST
        if not self.timeout_s > 0:
            raise ValueError(f"timeout_s: must be positive, got {self.timeout_s!r}")
        attempts = self.max_attempts
        if isinstance(attempts, bool) or not isinstance(attempts, int) or attempts < 1:
            raise ValueError(f"max_attempts: must be a whole number >= 1, got {self.max_attempts!r}")


def read_secret(spec: Mapping[str, Any], environ: Mapping[str, str]) -> bytes:
    """The secret from exactly one source; messages name the source, never the value."""
    given = [key for key in SECRET_SOURCES if spec.get(key) not in (None, "")]
    if len(given) != 1:
        raise ValueError(f"secret: give exactly one of {', '.join(SECRET_SOURCES)} (got {len(given)})")
    source = given[0]
    value = str(spec[source])
    if source == "secret_env":
        if not environ.get(value):
            raise ValueError(f"secret_env: environment variable {value} is not set")
        return environ[value].encode()
    if source == "secret_file":
        try:
            return Path(value).expanduser().read_bytes().strip()
        except OSError as e:
            raise ValueError(f"secret_file: cannot read {value}: {e.strerror}") from e
    return value.encode()


def number(value: Any, key: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"{key}: must be a number, got {value!r}")
    try:
        return float(value)
    except ValueError:
        raise ValueError(f"{key}: must be a number, got {value!r}") from None


def parse_endpoints(
    data: Any, *, source: str, environ: Mapping[str, str] = os.environ, defaults: Settings | None = None
) -> dict[str, Endpoint]:
    """Validate the ``endpoints:`` mapping; errors read ``FILE: endpoints.NAME.KEY: message``."""
    settings = defaults or get_settings()
    if data is None:
        data = {"endpoints": {}}
    if not isinstance(data, Mapping) or not isinstance(data.get("endpoints", {}), Mapping):
        raise ConfigError(f"{source}: expected a mapping with an 'endpoints:' mapping of name -> settings")
    found: dict[str, Endpoint] = {}
    for name, spec in (data.get("endpoints") or {}).items():
        where = f"{source}: endpoints.{name}"
        if not isinstance(spec, Mapping):
            raise ConfigError(f"{where}: expected a mapping with url and a secret source")
        unknown = sorted(set(map(str, spec)) - KNOWN_KEYS)
        if unknown:
            known = ", ".join(sorted(KNOWN_KEYS))
            raise ConfigError(f"{where}: unknown key(s) {', '.join(unknown)}; known: {known}")
        try:
            found[str(name)] = Endpoint(
                name=str(name),
                url=str(spec.get("url") or ""),
                secret=read_secret(spec, environ),
                timeout_s=number(spec.get("timeout_s", settings.webhook_timeout_s), "timeout_s"),
                max_attempts=spec.get("max_attempts", settings.webhook_max_attempts),
            )
        except ValueError as e:
            raise ConfigError(f"{where}.{e}") from None  # from None: the cause could quote a secret
    return found


def load_endpoints(path: Path, *, environ: Mapping[str, str] = os.environ) -> dict[str, Endpoint]:
    """Read and validate an endpoints file."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise ConfigError(f"{path}: cannot read the webhooks file: {e.strerror}") from e
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise ConfigError(f"{path}: not valid YAML: {e}") from e
    return parse_endpoints(data, source=str(path), environ=environ)


_cache: dict[Path, tuple[tuple[int, int], dict[str, Endpoint]]] = {}


def configured_endpoints(settings: Settings | None = None) -> dict[str, Endpoint]:
    """The endpoints of ``settings.webhooks_file`` ({} when unset), re-read when the file changes."""
    path = (settings or get_settings()).webhooks_file
    if path is None:
        return {}
    try:
        stat = path.stat()
    except OSError as e:
        raise ConfigError(f"{path}: cannot read the webhooks file: {e.strerror}") from e
    stamp = (stat.st_mtime_ns, stat.st_size)
    cached = _cache.get(path)
    if cached is None or cached[0] != stamp:
        cached = (stamp, load_endpoints(path))
        _cache[path] = cached
    return cached[1]
