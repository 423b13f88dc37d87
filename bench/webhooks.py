"""Webhook delivery rate: a new HTTP client per attempt vs the pooled client vs concurrent batches.

In-process on a fresh Postgres database, a loopback receiver (HTTP/1.1 keep-alive, answers 200 after
``--latency-ms``), N webhook actions per mode, the real ``deliver`` path (row lock, payload, signatures,
attempt log, commit). Modes, measured in the same run:

  fresh     one action at a time, a new httpx.Client per attempt (the code before issue 15)
  pooled    one action at a time on this process's keep-alive client
  batch     ``deliver_many`` (the ``mailroute.deliver_webhooks`` task): batches of 32, 8 in flight

    python bench/webhooks.py [--actions 300] [--latency-ms 5]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import httpx
from common import create_database, drop_database

from tests.connectors.receiver import Reply, receiver
from tests.connectors.webhook.test_delivery import make_webhook_action


def fresh_post(url: str, *, content: bytes, headers: dict[str, str], timeout: float) -> httpx.Response:
    with httpx.Client(timeout=timeout, follow_redirects=False) as client:
        return client.post(url, content=content, headers=headers)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--actions", type=int, default=300)
    parser.add_argument("--latency-ms", type=float, default=5.0, help="the receiver's think time")
    args = parser.parse_args()
    db = create_database()
    tmp = Path(tempfile.mkdtemp(prefix="mailroute-webhooks-"))
    try:
        from worker.cli.db import upgrade

        upgrade(url=db)
        with receiver(Reply(200, hang_s=args.latency_ms / 1000), keep_alive=True) as server:
            server.released.clear()
            (tmp / "hooks.yaml").write_text(
                f"endpoints:\n  hook:\n    url: {server.url}\n    secret: bench\n"
            )
            os.environ.update(MAILROUTE_DATABASE_URL=db, MAILROUTE_WEBHOOKS_FILE=str(tmp / "hooks.yaml"))
            os.environ.pop("MAILROUTE_BROKER_URL", None)
            from worker.core.settings import get_settings

            get_settings.cache_clear()
            from worker.db.session import session_scope
            from worker.outbox.registry import EXECUTORS
            from worker.tasks.webhook_batch import deliver_many
            from worker.tasks.webhooks import deliver

            executor = EXECUTORS["webhook"]
            pooled_post = executor.post  # type: ignore[attr-defined]
            rates = {}
            for mode in ("fresh", "pooled", "batch"):
                ids = [make_webhook_action(db) for _ in range(args.actions)]
                executor.post = fresh_post if mode == "fresh" else pooled_post  # type: ignore[attr-defined]
                started = time.perf_counter()
                if mode == "batch":
                    for start in range(0, len(ids), 32):
                        assert deliver_many(ids[start : start + 32]) == {"done": len(ids[start : start + 32])}
                else:
                    for action_id in ids:
                        with session_scope(db) as session:
                            assert deliver(session, action_id).status == "done"
                rates[mode] = len(ids) / (time.perf_counter() - started)
                print(f"{mode:7s} {rates[mode]:7.1f} deliveries/s ({1000 / rates[mode]:.1f} ms each)")
    finally:
        drop_database(db)
    print(
        f"RESULT fresh_per_s={rates['fresh']:.1f} pooled_per_s={rates['pooled']:.1f} "
        f"batch_per_s={rates['batch']:.1f} pooled_ratio={rates['pooled'] / rates['fresh']:.2f} "
        f"batch_ratio={rates['batch'] / rates['fresh']:.2f}"
    )


if __name__ == "__main__":
    sys.exit(main())
