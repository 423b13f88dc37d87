"""One pool of keep-alive HTTP/1.1 connections per process for webhook deliveries (http.client).

httpx cost ~0.8 ms of CPU per POST on the project's 2-core machine, http.client on a kept connection
~0.25 (docs/benchmarks.md): with a webhook per mail the client was the whole path's largest cost. Kept
of a full client: connections reused per origin, one thread at a time each, and checked before reuse (a
receiver that closed an idle one is not sent a request on it); TLS and proxies as
connectors.webhook.origin sets them; one timeout for connecting and each read; no redirects (a signed
body is re-posted nowhere a 3xx points), no cookies; replies read up to :data:`MAX_REPLY_BYTES`; a new
pool in a forked child (sockets never cross a fork).
"""

from __future__ import annotations

import http.client
import os
import select
import socket
import threading
from dataclasses import dataclass
from email.message import Message

from connectors.webhook.origin import InvalidTarget, Route, connection_for, route_of, tls_context

MAX_IDLE_PER_ORIGIN = 64  # idle connections kept per origin; per-endpoint concurrency is the caller's
MAX_REPLY_BYTES = 64 * 1024  # of a reply's body read; only its first 200 characters are ever recorded


class PostError(Exception):
    """The POST failed on the network: refused, reset, DNS, TLS, or a broken answer. Retried."""


class PostTimeout(PostError):
    """Connecting, or waiting for the answer, took longer than the endpoint's timeout. Retried."""


@dataclass(frozen=True)
class Reply:
    """A receiver's answer: its status, headers (case-insensitive ``get``) and the start of its body."""

    status_code: int
    headers: Message
    content: bytes = b""

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", errors="replace")


class ConnectionPool:
    """Keep-alive connections by origin; :meth:`post` is safe to call from many threads."""

    def __init__(self) -> None:
        self._idle: dict[Route, list[http.client.HTTPConnection]] = {}
        self._lock = threading.Lock()

    def post(self, url: str, *, content: bytes, headers: dict[str, str], timeout: float) -> Reply:
        """POST ``content``; the answer, or PostTimeout / PostError / InvalidTarget."""
        route, target = route_of(url)
        if route.proxy_auth and route.scheme == "http":
            headers = {**headers, "Proxy-Authorization": route.proxy_auth}
        conn = self._checkout(route, timeout)
        try:
            conn.request("POST", target, body=content, headers=headers)
            response = conn.getresponse()
            body = response.read(MAX_REPLY_BYTES)
        except http.client.InvalidURL as e:
            conn.close()
            raise InvalidTarget(str(e)) from None
        except TimeoutError as e:
            conn.close()
            raise PostTimeout(f"{type(e).__name__}: {e}") from e
        except (OSError, http.client.HTTPException) as e:
            conn.close()
            raise PostError(f"{type(e).__name__}: {e}") from e
        if response.will_close or not response.isclosed():  # Connection: close, or a body left unread
            conn.close()
        else:
            self._checkin(route, conn)
        return Reply(response.status, response.headers, body)

    def _checkout(self, route: Route, timeout: float) -> http.client.HTTPConnection:
        with self._lock:
            idle = self._idle.get(route, [])
            while idle:
                conn = idle.pop()
                if conn.sock is not None and not _readable(conn.sock):
                    conn.timeout = timeout
                    conn.sock.settimeout(timeout)
                    return conn
                conn.close()  # the server closed it (or sent something unasked): not reusable
        return connection_for(route, timeout)

    def _checkin(self, route: Route, conn: http.client.HTTPConnection) -> None:
        with self._lock:
            idle = self._idle.setdefault(route, [])
            if len(idle) < MAX_IDLE_PER_ORIGIN:
                idle.append(conn)
                return
        conn.close()

    def close(self) -> None:
        with self._lock:
            conns = [conn for idle in self._idle.values() for conn in idle]
            self._idle.clear()
        for conn in conns:
            conn.close()


def _readable(sock: socket.socket) -> bool:
    """An idle kept-alive socket with something to read has been closed by the server (or is broken)."""
    try:
        return bool(select.select([sock], [], [], 0)[0])
    except (OSError, ValueError):
        return True


_lock = threading.Lock()
_pool: ConnectionPool | None = None
_pid = 0


def http_client() -> ConnectionPool:
    """This process's pool (created lazily; a new one after a fork)."""
    global _pool, _pid
    with _lock:
        if _pool is None or _pid != os.getpid():
            _pool, _pid = ConnectionPool(), os.getpid()
        return _pool


def preload() -> None:
    """Load the TLS context (~20 ms) before a Celery worker forks: it survives a fork, unlike sockets."""
    tls_context()


def reset_client() -> None:
    """Forget the pool without closing it (after a fork its sockets belong to the parent); tests too."""
    global _pool, _pid
    _pool, _pid = None, 0


def close_client() -> None:
    """Close this process's idle connections and forget the pool (shutdown, tests)."""
    with _lock:
        if _pool is not None and _pid == os.getpid():
            _pool.close()
    reset_client()


os.register_at_fork(after_in_child=reset_client)
