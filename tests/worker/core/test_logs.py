"""Structured logs: JSON or plain lines, a message id on every line about a mail, no secrets."""

from __future__ import annotations

import io
import json
import logging
import sys
import threading
from collections.abc import Iterator

import pytest

from worker.core.logs import JsonFormatter, bind_message, configure_logging, current_message_id, redact
from worker.core.settings import Settings, get_settings

log = logging.getLogger("mailroute.test")


@pytest.fixture(autouse=True)
def root_logger() -> Iterator[logging.Logger]:
    """configure_logging replaces the root's handlers: put pytest's back afterwards."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield root
    for handler in list(root.handlers):
        root.removeHandler(handler)
    for handler in handlers:
        root.addHandler(handler)
    root.setLevel(level)
    logging.captureWarnings(False)


def capture(*, json_lines: bool, level: str = "DEBUG") -> io.StringIO:
    stream = io.StringIO()
    configure_logging(Settings(log_json=json_lines, log_level=level), stream=stream)
    return stream


def lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_json_line_carries_message_id_from_extra_and_extra_fields() -> None:
    stream = capture(json_lines=True)
    log.warning("message %s failed: %s", 42, "boom", extra={"message_id": 42, "attempt": 3})
    log.info("no mail here")
    first, second = lines(stream)
    assert first["message"] == "message 42 failed: boom" and first["message_id"] == 42
    assert first["level"] == "WARNING" and first["logger"] == "mailroute.test" and first["attempt"] == 3
    assert str(first["ts"]).endswith("+00:00")
    assert second["message_id"] is None


def test_bind_message_tags_every_line_in_the_block_and_only_there() -> None:
    stream = capture(json_lines=True)
    with bind_message(7):
        log.info("parsing")
        with bind_message(8):
            log.info("inner")
        log.info("scoring", extra={"message_id": 9})  # an explicit id wins
        assert current_message_id() == 7
    log.info("after")
    assert [line["message_id"] for line in lines(stream)] == [7, 8, 9, None]


def test_bound_id_does_not_leak_into_other_threads() -> None:
    stream = capture(json_lines=True)
    with bind_message(5):
        thread = threading.Thread(target=lambda: log.info("from a watcher thread"))
        thread.start()
        thread.join()
    assert lines(stream)[0]["message_id"] is None


def test_plain_lines_show_the_message_id() -> None:
    stream = capture(json_lines=False)
    with bind_message(12):
        log.warning("could not parse")
    log.warning("plain")
    first, second = stream.getvalue().splitlines()
    assert first.endswith("WARNING mailroute.test: could not parse [message_id=12]")
    assert second.endswith("WARNING mailroute.test: plain")


@pytest.mark.parametrize("json_lines", [True, False])
def test_secrets_are_redacted_in_messages_args_and_tracebacks(json_lines: bool) -> None:
    stream = capture(json_lines=json_lines)
    url = "postgresql+psycopg://mailroute:hunter2secret@postgres:5432/mailroute"
    log.error("cannot connect to %s", url)
    log.error("imap login password=hunter2secret token='hunter2secret' for ops")
    log.error("Authorization: Bearer hunter2secretTOKEN")
    try:
        raise ConnectionError("redis://:hunter2secret@redis:6379/0 refused")
    except ConnectionError:
        log.exception("broker down")
    out = stream.getvalue()
    assert "hunter2secret" not in out
    assert "postgresql+psycopg://mailroute:***@postgres:5432/mailroute" in out
    assert "redis://:***@redis:6379/0" in out and "password=***" in out and "Bearer ***" in out


def test_redact_keeps_ordinary_text() -> None:
    text = "webhook secret: missing for endpoint ticketing; see https://example.com/a?b=c"
    assert redact(text) == text
    assert redact("https://user:pw@host/x and http://host/y") == "https://user:***@host/x and http://host/y"


def test_configure_logging_is_idempotent_and_takes_the_level() -> None:
    root = logging.getLogger()
    capture(json_lines=True, level="warning")
    capture(json_lines=True, level="warning")
    assert len(root.handlers) == 1 and isinstance(root.handlers[0].formatter, JsonFormatter)
    assert root.level == logging.WARNING
    configure_logging(Settings(log_level="INFO"), level=logging.DEBUG, stream=io.StringIO())
    assert root.level == logging.DEBUG


def test_cli_main_logs_json_lines_at_the_configured_level(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from worker.cli import main

    monkeypatch.setenv("MAILROUTE_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("MAILROUTE_LOG_JSON", "true")
    monkeypatch.setenv("MAILROUTE_LOG_LEVEL", "DEBUG")  # below INFO, alembic's lines are shown too
    monkeypatch.setattr(sys, "argv", ["mailroute", "db", "current"])
    get_settings.cache_clear()
    try:
        with pytest.raises(SystemExit) as exit_info:
            main()
    finally:
        get_settings.cache_clear()
    assert exit_info.value.code in (0, None)
    records = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")]
    assert records and all(r["level"] in ("DEBUG", "INFO") and "message_id" in r for r in records)
    assert any(r["logger"].startswith("alembic") for r in records)


def test_cli_default_level_is_the_settings_default_info(monkeypatch: pytest.MonkeyPatch) -> None:
    from worker.cli import _configure_logging

    monkeypatch.delenv("MAILROUTE_LOG_LEVEL", raising=False)
    get_settings.cache_clear()
    try:
        _configure_logging()
        assert Settings.model_fields["log_level"].default == "INFO"  # the settings table's value
        assert logging.getLogger().level == logging.INFO  # a poller's "reconnected" is seen
        assert logging.getLogger("alembic").level == logging.WARNING  # but no library chatter
        monkeypatch.setenv("MAILROUTE_LOG_LEVEL", "DEBUG")
        get_settings.cache_clear()
        _configure_logging()
        assert logging.getLogger().level == logging.DEBUG
    finally:
        get_settings.cache_clear()


def test_celery_setup_logging_signal_installs_mailroute_logging(monkeypatch: pytest.MonkeyPatch) -> None:
    from celery.signals import setup_logging

    import worker.tasks.app  # noqa: F401 - connects the receiver

    monkeypatch.delenv("MAILROUTE_LOG_LEVEL", raising=False)
    monkeypatch.setenv("MAILROUTE_LOG_JSON", "true")
    get_settings.cache_clear()
    try:
        receivers = setup_logging.send(
            sender=None, loglevel=logging.ERROR, logfile=None, format="", colorize=False
        )
        assert receivers, "Celery would configure logging itself"
        root = logging.getLogger()
        assert root.level == logging.ERROR  # celery's --loglevel when MAILROUTE_LOG_LEVEL is unset
        assert isinstance(root.handlers[0].formatter, JsonFormatter)
        monkeypatch.setenv("MAILROUTE_LOG_LEVEL", "INFO")
        get_settings.cache_clear()
        setup_logging.send(sender=None, loglevel=logging.ERROR, logfile=None, format="", colorize=False)
        assert root.level == logging.INFO  # an explicit MAILROUTE_LOG_LEVEL wins
    finally:
        get_settings.cache_clear()


def test_a_malformed_log_call_does_not_raise_at_the_call_site(monkeypatch: pytest.MonkeyPatch) -> None:
    stream = capture(json_lines=True)
    monkeypatch.setattr(logging, "raiseExceptions", False)  # as in production: report, never raise
    log.error("two args expected: %s %s", "only one")
    log.error("next line still logged")
    assert lines(stream)[-1]["message"] == "next line still logged"
