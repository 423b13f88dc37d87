"""One pooled HTTP client per process for webhook deliveries.

A fresh ``httpx.Client`` per attempt cost ~22 ms (TLS context, pool, DNS); a reused one posts to a
keep-alive connection in ~1 ms. The client is created on first use and dropped in a forked child
(Celery's prefork workers fork after import): sockets and locks must never cross a fork. httpx's
Client is thread-safe, so the batch task's threads share it. Redirects are never followed: re-posting a
signed body to wherever a 3xx points is not ours to do. Cookies are neither kept nor sent: a delivery
carries its signature, never state a receiver set on an earlier one (and reading every response's
Set-Cookie through the standard library's cookie jar was a tenth of the client's CPU per POST).
"""

from __future__ import annotations

import os
import threading

import httpx

MAX_CONNECTIONS = 64  # across all endpoints; per-endpoint concurrency is bounded by the caller


class _NoCookies(httpx.Cookies):
    """A cookie jar that stays empty: Set-Cookie in a receiver's answer is ignored."""

    def extract_cookies(self, response: httpx.Response) -> None:
        return None


class _StatelessClient(httpx.Client):
    """httpx's client without its cookie jar (every request would otherwise read and merge it)."""

    @property
    def cookies(self) -> httpx.Cookies:
        return _NO_COOKIES

    @cookies.setter
    def cookies(self, _: object) -> None:  # the base class sets its jar in __init__: nothing to keep
        return None


_NO_COOKIES = _NoCookies()
_lock = threading.Lock()
_client: httpx.Client | None = None
_pid = 0


def http_client() -> httpx.Client:
    """This process's client (created lazily; a new one after a fork)."""
    global _client, _pid
    with _lock:
        if _client is None or _pid != os.getpid():
            _client = _StatelessClient(
                follow_redirects=False,
                limits=httpx.Limits(
                    max_connections=MAX_CONNECTIONS, max_keepalive_connections=MAX_CONNECTIONS
                ),
            )
            _pid = os.getpid()
        return _client


def preload() -> None:
    """Import the HTTP stack without keeping a client (httpx loads its transport on the first client).

    A Celery worker calls this before it forks its pool, so that no child pays it on its first POST.
    """
    httpx.Client().close()


def reset_client() -> None:
    """Forget the client without closing it (after a fork its sockets belong to the parent); tests too."""
    global _client, _pid
    _client, _pid = None, 0


def close_client() -> None:
    """Close this process's client (shutdown, tests)."""
    global _client
    with _lock:
        if _client is not None and _pid == os.getpid():
            _client.close()
        reset_client()


os.register_at_fork(after_in_child=reset_client)
