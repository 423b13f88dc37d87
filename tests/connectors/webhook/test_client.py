"""The pooled webhook client: one keep-alive connection for many deliveries, a new client after fork."""

from __future__ import annotations

import os
import socket
import threading
import time

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
        fresh = client._pool is None and client.http_client() is not parent
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


def _one_shot_server() -> tuple[str, list[tuple[str, int]], threading.Event, threading.Thread]:
    """A server that answers each connection's first request (200, keep-alive headers) and then closes
    it without saying so, as a receiver does when its keep-alive timeout ends."""
    listener = socket.create_server(("127.0.0.1", 0))
    peers: list[tuple[str, int]] = []
    closed = threading.Event()  # set once the first connection is closed

    def serve() -> None:
        with listener:
            for _ in range(2):
                conn, peer = listener.accept()
                with conn:
                    data = b""
                    while b"\r\n\r\n" not in data:
                        data += conn.recv(65536)
                    head, _, body = data.partition(b"\r\n\r\n")
                    length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
                    while len(body) < length:
                        body += conn.recv(65536)
                    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
                    peers.append(peer)
                closed.set()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return f"http://127.0.0.1:{listener.getsockname()[1]}/hook", peers, closed, thread


def test_a_connection_the_receiver_closed_while_idle_is_not_reused() -> None:
    url, peers, closed, thread = _one_shot_server()
    pool = client.ConnectionPool()
    first = pool.post(url, content=b"{}", headers={}, timeout=5)
    assert closed.wait(5)  # the receiver has closed the kept connection, without a word
    time.sleep(0.05)  # and the FIN has reached this side
    second = pool.post(url, content=b"{}", headers={}, timeout=5)
    pool.close()
    thread.join(5)
    assert (first.status_code, second.status_code) == (200, 200)
    assert len(peers) == 2 and peers[0] != peers[1]  # the second POST went on a new connection


def test_a_long_reply_is_cut_and_its_connection_dropped() -> None:
    big = b"x" * (client.MAX_REPLY_BYTES + 10)
    with receiver(Reply(500, body=big), Reply(200, body=b"ok"), keep_alive=True) as server:
        pool = client.ConnectionPool()
        first = pool.post(server.url, content=b"{}", headers={}, timeout=5)
        second = pool.post(server.url, content=b"{}", headers={}, timeout=5)
        third = pool.post(server.url, content=b"{}", headers={}, timeout=5)
        pool.close()
    assert first.status_code == 500 and first.content == big[: client.MAX_REPLY_BYTES]
    assert second.text == "ok" and third.status_code == 200
    peers = [r.peer for r in server.requests]
    assert peers[0] != peers[1] and peers[1] == peers[2]  # dropped after the long one, then kept


def test_the_reply_headers_are_read_case_insensitively() -> None:
    with receiver(Reply(429, headers={"Retry-After": "7"}), keep_alive=True) as server:
        reply = client.ConnectionPool().post(server.url, content=b"{}", headers={}, timeout=5)
    assert reply.status_code == 429 and reply.headers.get("retry-after") == "7"
