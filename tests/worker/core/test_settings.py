"""Typed settings: defaults, validation, secrets from files."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from worker.core.settings import Settings, redact_url


def test_defaults_are_the_embedded_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in Settings.model_fields:
        monkeypatch.delenv(f"MAILROUTE_{name.upper()}", raising=False)
    settings = Settings()
    assert settings.database_url.startswith("sqlite") and settings.eager and settings.backend == "embedding"


def test_unknown_backend_is_refused_with_the_choices(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAILROUTE_BACKEND", "gpt")
    with pytest.raises(ValidationError, match="choose one of"):
        Settings()


def test_secret_from_a_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    secret = tmp_path / "key"
    secret.write_text("s3cret\n")
    monkeypatch.delenv("MAILROUTE_ADMIN_SECRET_KEY", raising=False)
    monkeypatch.setenv("MAILROUTE_ADMIN_SECRET_KEY_FILE", str(secret))
    value = Settings().admin_secret_key
    assert value is not None and value.get_secret_value() == "s3cret"
    assert "s3cret" not in repr(Settings())


def test_unreadable_secret_file_is_one_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAILROUTE_ADMIN_SECRET_KEY_FILE", "/nonexistent/key")
    with pytest.raises(ValidationError, match="MAILROUTE_ADMIN_SECRET_KEY_FILE: cannot read"):
        Settings()


def test_redact_url_hides_passwords() -> None:
    assert redact_url("redis://:pw@host:6379/0") == "redis://:***@host:6379/0"
    assert redact_url("postgresql://u:pw@db/x") == "postgresql://u:***@db/x"
    assert redact_url("redis://host:6379") == "redis://host:6379"
