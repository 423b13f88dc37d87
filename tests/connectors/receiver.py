"""A real HTTP receiver on loopback whose answers are scripted per test (webhook tests).

A ThreadingHTTPServer on 127.0.0.1 and a free port: each request is recorded and answered by the next
:class:`Reply` of the script (the last one repeats). A reply can hang past the client's timeout or
reset the connection; :func:`closed_port_url` gives a URL nobody listens on.
"""

from __future__ import annotations

import socket
import struct
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from connectors.webhook import client


@dataclass(frozen=True)
class Reply:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    hang_s: float = 0.0  # wait this long before answering (past the client's timeout)
    reset: bool = False  # close the connection with a TCP RST instead of answering


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]  # lower-case names
    body: bytes
    peer: tuple[str, int] = ("", 0)  # the client's address: one per TCP connection


class Receiver:
    def __init__(self, script: Sequence[Reply], *, keep_alive: bool = False) -> None:
        self.script = list(script) or [Reply()]
        self.requests: list[Received] = []
        self.released = threading.Event()
        self.server = _Server(("127.0.0.1", 0), _KeepAliveHandler if keep_alive else _Handler)
        self.server.receiver = self  # type: ignore[attr-defined]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def next_reply(self, received: Received) -> Reply:
        self.requests.append(received)
        return self.script[min(len(self.requests), len(self.script)) - 1]


class _Server(ThreadingHTTPServer):
    # a production server's accept backlog (nginx: 511), not Python's 5: concurrent deliveries connect
    # together, and a SYN dropped by a full backlog would surface as a 1 s ConnectTimeout
    request_queue_size = 128


class _Handler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        receiver: Receiver = self.server.receiver  # type: ignore[attr-defined]
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        headers = {name.lower(): value for name, value in self.headers.items()}
        reply = receiver.next_reply(Received(self.path, headers, body, self.client_address[:2]))
        if reply.hang_s:
            receiver.released.wait(reply.hang_s)
        if reply.reset:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
            self.close_connection = True
            return
        self.send_response(reply.status)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        self.wfile.write(reply.body)

    def log_message(self, format: str, *args: object) -> None:  # keep test output quiet
        pass


class _KeepAliveHandler(_Handler):
    protocol_version = "HTTP/1.1"  # persistent connections, as a production receiver offers


@contextmanager
def receiver(*script: Reply, keep_alive: bool = False) -> Iterator[Receiver]:
    """Run a receiver for the duration of a ``with`` block (HTTP/1.1 keep-alive when asked)."""
    server = Receiver(script, keep_alive=keep_alive)
    server.thread.start()
    try:
        yield server
    finally:
        server.released.set()
        server.server.shutdown()
        server.server.server_close()


def closed_port_url() -> str:
    """A loopback URL whose port was free a moment ago and is closed now: connection refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/hook"


def http_reply(status: int = 200, headers: dict[str, str] | None = None, body: bytes = b"") -> client.Reply:
    """A receiver's answer as the webhook client returns it, for fakes that stand in for the POST."""
    message = Message()
    for name, value in (headers or {}).items():
        message[name] = value
    return client.Reply(status, message, body)
