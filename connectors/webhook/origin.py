"""Where a webhook URL's POST goes: the server (or the proxy from the environment), the TLS context, and
the unopened connection for a route (:func:`connection_for`).

An endpoint's URL is read once per process (:func:`route_of` is cached): its scheme (``http`` or
``https``), host, port and request target. A proxy comes from the environment as curl, requests and
httpx read it — ``HTTPS_PROXY`` / ``HTTP_PROXY`` / ``ALL_PROXY`` (lower case too), ``NO_PROXY`` — and
must be an ``http://`` proxy (an ``https`` URL is tunnelled through it with CONNECT); its
``user:password@`` becomes a ``Proxy-Authorization`` header. Certificates are verified against
``SSL_CERT_FILE`` / ``SSL_CERT_DIR`` when set, else certifi's bundle (httpx's default), with the
standard library's default TLS settings (TLS 1.2 or later, hostname checked).
"""

from __future__ import annotations

import base64
import functools
import http.client
import os
import ssl
import urllib.request
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

DEFAULT_PORTS = {"http": 80, "https": 443}


class InvalidTarget(Exception):
    """The URL (or the proxy meant for it) cannot be posted to: a configuration error, never retried."""


@dataclass(frozen=True)
class Route:
    """One origin's connections: the server, or the proxy in front of it."""

    scheme: str  # of the target: http | https
    host: str
    port: int
    proxy: tuple[str, int] | None = None
    proxy_auth: str | None = None  # the Proxy-Authorization value, when the proxy URL has credentials

    @property
    def connect_to(self) -> tuple[str, int]:
        return self.proxy or (self.host, self.port)


@functools.lru_cache(maxsize=256)
def route_of(url: str) -> tuple[Route, str]:
    """The route and the request target (path and query; the whole URL through a plain-HTTP proxy)."""
    try:
        parts = urlsplit(url)
        scheme, host, port = parts.scheme.lower(), parts.hostname, parts.port
    except ValueError as e:  # a port out of range or not a number, a malformed IPv6 address
        raise InvalidTarget(f"not a valid URL: {e}") from None
    if scheme not in DEFAULT_PORTS:
        raise InvalidTarget(f"scheme {parts.scheme or '(none)'!r}: only http and https are supported")
    if not host:
        raise InvalidTarget("the URL has no host")
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    route = Route(scheme, host, port or DEFAULT_PORTS[scheme])
    proxy_url = environment_proxy(scheme, host)
    if proxy_url is None:
        return route, target
    proxy = urlsplit(proxy_url if "://" in proxy_url else f"http://{proxy_url}")
    if proxy.scheme.lower() != "http" or not proxy.hostname:
        raise InvalidTarget(f"proxy for {scheme} URLs: only http:// proxies are supported")
    auth = None
    if proxy.username is not None:
        pair = f"{unquote(proxy.username)}:{unquote(proxy.password or '')}"
        auth = "Basic " + base64.b64encode(pair.encode()).decode("ascii")
    via = Route(scheme, host, route.port, (proxy.hostname, proxy.port or 80), auth)
    return via, (f"{scheme}://{parts.netloc.rpartition('@')[2]}{target}" if scheme == "http" else target)


def environment_proxy(scheme: str, host: str) -> str | None:
    """The proxy URL the environment sets for this scheme and host; None for a direct connection."""
    proxies = urllib.request.getproxies_environment()
    proxy = proxies.get(scheme) or proxies.get("all")
    if not proxy or urllib.request.proxy_bypass(host):  # NO_PROXY (the environment's, on Linux)
        return None
    return proxy


@functools.lru_cache(maxsize=1)
def tls_context() -> ssl.SSLContext:
    """The verifying TLS context every HTTPS connection of this process shares (loaded once)."""
    cafile, capath = os.environ.get("SSL_CERT_FILE"), os.environ.get("SSL_CERT_DIR")
    if not cafile and not capath:
        import certifi

        cafile = certifi.where()
    return ssl.create_default_context(cafile=cafile or None, capath=capath or None)


def connection_for(route: Route, timeout: float) -> http.client.HTTPConnection:
    """A new (not yet connected) connection for the route; it connects on its first request."""
    host, port = route.connect_to
    if route.scheme == "http":
        return http.client.HTTPConnection(host, port, timeout=timeout)
    conn = http.client.HTTPSConnection(host, port, timeout=timeout, context=tls_context())
    if route.proxy:
        auth = {"Proxy-Authorization": route.proxy_auth} if route.proxy_auth else None
        conn.set_tunnel(route.host, route.port, headers=auth)
    return conn
