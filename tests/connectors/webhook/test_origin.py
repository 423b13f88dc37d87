"""Where a webhook POST goes: proxies from the environment, TLS verified against the configured CAs."""

from __future__ import annotations

import base64
import datetime
import http.server
import ipaddress
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from connectors.webhook import client
from connectors.webhook.origin import InvalidTarget, route_of, tls_context
from tests.connectors.receiver import Reply, receiver

PROXY_VARS = ("http_proxy", "https_proxy", "all_proxy", "no_proxy")


@pytest.fixture(autouse=True)
def fresh_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in (*PROXY_VARS, "SSL_CERT_FILE", "SSL_CERT_DIR"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)
    route_of.cache_clear()
    tls_context.cache_clear()
    yield
    route_of.cache_clear()
    tls_context.cache_clear()


def test_a_plain_http_proxy_gets_the_absolute_url_and_its_credentials(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with receiver(Reply(202), keep_alive=True) as proxy:
        port = proxy.server.server_address[1]
        monkeypatch.setenv("HTTP_PROXY", f"http://ops:p%40ss@127.0.0.1:{port}")
        reply = client.ConnectionPool().post(
            "http://hooks.example/in?x=1", content=b"{}", headers={}, timeout=5
        )
    assert reply.status_code == 202
    (seen,) = proxy.requests
    assert seen.path == "http://hooks.example/in?x=1"
    assert seen.headers["proxy-authorization"] == "Basic " + base64.b64encode(b"ops:p@ss").decode()


def test_no_proxy_and_the_scheme_decide_whether_a_proxy_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("https_proxy", "http://proxy.internal:3128")
    monkeypatch.setenv("no_proxy", "localhost,.corp.example")
    via, target = route_of("https://tickets.example:8443/hook")
    assert via.proxy == ("proxy.internal", 3128) and via.connect_to == ("proxy.internal", 3128)
    assert target == "/hook" and (via.host, via.port) == ("tickets.example", 8443)  # a CONNECT tunnel
    assert route_of("https://api.corp.example/hook")[0].proxy is None
    assert route_of("http://tickets.example/hook")[0].proxy is None  # only https_proxy is set


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("ftp://h/x", "only http and https"),
        ("http:///x", "no host"),
        ("http://h:99999/x", "not a valid URL"),
    ],
)
def test_a_url_that_cannot_be_posted_to_is_an_invalid_target(url: str, problem: str) -> None:
    with pytest.raises(InvalidTarget, match=problem):
        route_of(url)


def test_an_https_proxy_url_is_refused_clearly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "https://proxy.internal:443")
    with pytest.raises(InvalidTarget, match="only http:// proxies"):
        route_of("https://tickets.example/hook")


def _self_signed(tmp_path: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "mailroute test")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


class _Ok(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


def test_https_is_verified_against_the_configured_certificates(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cert, key = _self_signed(tmp_path)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Ok)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"https://127.0.0.1:{server.server_address[1]}/hook"
    try:
        with pytest.raises(client.PostError, match="CERTIFICATE_VERIFY_FAILED"):  # certifi's CAs only
            client.ConnectionPool().post(url, content=b"{}", headers={}, timeout=5)
        monkeypatch.setenv("SSL_CERT_FILE", str(cert))
        tls_context.cache_clear()
        assert client.ConnectionPool().post(url, content=b"{}", headers={}, timeout=5).status_code == 200
    finally:
        server.shutdown()
        server.server_close()
