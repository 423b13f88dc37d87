"""The pooled webhook client: one keep-alive connection for many deliveries, a new client after fork."""

from __future__ import annotations

import os

from connectors.webhook import client
from tests.connectors.receiver import Reply, receiver
from tests.connectors.webhook.test_delivery import Configure, attempt, make_webhook_action


def test_deliveries_reuse_one_keep_alive_connection(configure: Configure, sqlite_url: str) -> None:
    client.close_client()
    with receiver(Reply(200), keep_alive=True) as server:
        configure(hook={"url": server.url})
        statuses = [attempt(sqlite_url, make_webhook_action(sqlite_url)).status for _ in range(5)]
    client.close_client()
    assert statuses == ["done"] * 5
    assert len(server.requests) == 5
    assert len({r.peer for r in server.requests}) == 1  # one TCP connection for all five


def test_a_forked_child_gets_its_own_client() -> None:
    parent = client.http_client()
    assert client.http_client() is parent  # reused within a process
    pid = os.fork()
    if pid == 0:  # the child: the parent's client (and its sockets) must be forgotten
        fresh = client._client is None and client.http_client() is not parent
        os._exit(0 if fresh else 1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert client.http_client() is parent
    client.close_client()


def test_a_receivers_cookie_is_never_sent_back(configure: Configure, sqlite_url: str) -> None:
    client.close_client()
    with receiver(Reply(200, headers={"Set-Cookie": "session=abc; Path=/"}), keep_alive=True) as server:
        configure(hook={"url": server.url})
        statuses = [attempt(sqlite_url, make_webhook_action(sqlite_url)).status for _ in range(3)]
    client.close_client()
    assert statuses == ["done"] * 3 and len(server.requests) == 3
    assert [r.headers.get("cookie") for r in server.requests] == [None, None, None]
    assert not client.http_client().cookies  # nothing kept
    client.close_client()
