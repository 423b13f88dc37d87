"""Admin fixtures: an app on a fresh SQLite database, anonymous and logged-in clients."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient

from admin.app import create_app
from admin.auth import hash_password
from tests.admin.builders import OFFICE_RULES, PASSWORD, office_rules
from tests.chaos.services import free_port
from worker.core.settings import Settings
from worker.pipeline.runtime import Runtime
from worker.scoring.backends.constant import ConstantScorer

_HASH = hash_password(PASSWORD)
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class Enqueued:
    batches: list[list[int]] = field(default_factory=list)

    def __call__(self, ids: object) -> None:
        self.batches.append(list(ids))  # type: ignore[call-overload]

    @property
    def ids(self) -> list[int]:
        return [i for batch in self.batches for i in batch]


def admin_settings(url: str, **extra: object) -> Settings:
    return Settings(
        database_url=url,
        rules_path=OFFICE_RULES,
        backend="constant",
        admin_password_hash=_HASH,
        admin_secret_key="test-secret-key",
        admin_api_token="test-api-token",
        **extra,  # type: ignore[arg-type]
    )


def make_app(url: str, enqueued: Enqueued | None = None, **extra: object) -> FastAPI:
    settings = admin_settings(url, **extra)
    runtime = Runtime(settings, ConstantScorer(), office_rules)
    return create_app(
        settings,
        runtime_provider=lambda: runtime,
        rule_set_provider=office_rules,
        enqueue=enqueued if enqueued is not None else Enqueued(),
    )


@contextmanager
def serving(app: FastAPI, *, log_level: str = "warning") -> Iterator[int]:
    """``app`` served by a real uvicorn on a free loopback port (yielded), in a thread; stopped after."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level=log_level))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield port
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def csrf_of(html: str) -> str:
    match = CSRF_RE.search(html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def login(client: TestClient, password: str = PASSWORD) -> TestClient:
    token = csrf_of(client.get("/login").text)
    response = client.post(
        "/login",
        data={"username": "admin", "password": password, "csrf_token": token, "next": "/review"},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    return client


@pytest.fixture
def enqueued() -> Enqueued:
    return Enqueued()


@pytest.fixture
def app(sqlite_url: str, enqueued: Enqueued) -> FastAPI:
    return make_app(sqlite_url, enqueued)


@pytest.fixture
def anon(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, base_url="https://testserver") as client:
        yield client


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, base_url="https://testserver") as c:
        yield login(c)
