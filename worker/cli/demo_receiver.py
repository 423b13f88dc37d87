"""A webhook receiver on 127.0.0.1 for ``mailroute demo``: every endpoint the rule set names gets one.

The example rule sets send mail to webhook endpoints (``office.yaml``: ``crm-intake``) that only a real
deployment configures. Without a receiver the demo would leave a dead action per such mail; with
:func:`local_receiver` each delivery is real (signed, over HTTP) and ends ``done``. A webhooks file the
user already set (``MAILROUTE_WEBHOOKS_FILE``) is left alone.
"""

from __future__ import annotations

import os
import secrets
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import yaml

from rules import RuleSet

ENV = "MAILROUTE_WEBHOOKS_FILE"


@dataclass
class Receiver:
    """What the local receiver got: (endpoint name, body) per delivery; empty ``names``: none started."""

    names: tuple[str, ...]
    received: list[tuple[str, bytes]] = field(default_factory=list)


def webhook_endpoints(rule_set: RuleSet) -> tuple[str, ...]:
    """The endpoint names the rule set's webhook actions use, sorted."""
    targets = {a.target for c in rule_set.categories for a in c.actions if a.kind == "webhook"}
    return tuple(sorted(targets))


@contextmanager
def local_receiver(*rule_sets: RuleSet) -> Iterator[Receiver]:
    """Serve every webhook endpoint of ``rule_sets`` on 127.0.0.1 while the block runs (sets ``ENV``)."""
    names = tuple(sorted({name for rule_set in rule_sets for name in webhook_endpoints(rule_set)}))
    if not names or os.environ.get(ENV):
        yield Receiver(())
        return
    receiver = Receiver(names)
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            with lock:
                receiver.received.append((self.path.strip("/"), body))
            self.send_response(204)
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, name="demo-webhooks", daemon=True)
    thread.start()
    port = server.server_address[1]
    secret = secrets.token_urlsafe(24)
    endpoints = {name: {"url": f"http://127.0.0.1:{port}/{name}", "secret": secret} for name in names}
    try:
        with tempfile.TemporaryDirectory(prefix="mailroute-demo-") as folder:
            path = Path(folder) / "webhooks.yaml"
            path.write_text(yaml.safe_dump({"endpoints": endpoints}), encoding="utf-8")
            os.environ[ENV] = str(path)
            try:
                yield receiver
            finally:
                os.environ.pop(ENV, None)
    finally:
        server.shutdown()
        server.server_close()
