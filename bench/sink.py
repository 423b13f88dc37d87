"""A loopback webhook receiver for benchmarks: HTTP/1.1 keep-alive, answers 200, records each mail.

An asyncio server on its own thread: it reads a request's head and body, answers ``200`` with an empty
body and records the document's ``message.message_id`` with the arrival time of its first delivery.
It shares the benchmark's CPU with the path being measured, so it does no more than that: the standard
library's ThreadingHTTPServer (a thread per connection, a full header parse) cost ~0.1 ms of CPU per
request more, taken from the path under test on a 2-core machine.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time

OK = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"


class Sink:
    """message-id → arrival time of its first delivery; ``posts`` counts every POST."""

    def __init__(self) -> None:
        self.seen: dict[str, float] = {}
        self.posts = 0
        self.errors: list[str] = []
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        self._ready.wait(10)
        self.url = f"http://127.0.0.1:{self._port}/hook"

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        server = self._loop.run_until_complete(asyncio.start_server(self._serve, "127.0.0.1", 0))
        self._server = server
        self._port = server.sockets[0].getsockname()[1]
        self._ready.set()
        self._loop.run_forever()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line[:15].lower() == b"content-length:":
                        length = int(line[15:])
                body = await reader.readexactly(length)
                self.record(body)
                writer.write(OK)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass  # the client closed its connection
        finally:
            writer.close()

    def record(self, body: bytes) -> None:
        self.posts += 1
        try:
            mid = json.loads(body)["message"]["message_id"]
        except (ValueError, KeyError, TypeError) as e:
            self.errors.append(f"{type(e).__name__}: {body[:80]!r}")
            return
        self.seen.setdefault(mid, time.time())

    def close(self) -> None:
        def stop() -> None:
            self._server.close()
            self._loop.stop()

        self._loop.call_soon_threadsafe(stop)
        self._thread.join(5)
