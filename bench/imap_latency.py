"""IMAP arrival-to-decision latency through IDLE, and backlog throughput, against a private Dovecot.

Latency: mails are APPENDed one by one to a watched INBOX; the clock runs from the end of the APPEND
to the moment the poller's enqueue returns — the mail stored, scored by the CPU default model
(all-MiniLM-L6-v2), decided by rules/examples/office.yaml, saved, and its IMAP actions applied (tasks
run in-process: no broker). The model's own share is measured separately, so the path around it is
visible. Bursts: continuous arrival — bursts of 100 mails APPENDed one by one, a few seconds apart,
race the poller's SEARCH/FETCH; each mail's clock runs from its own APPEND to its decision, so a
mail announced during a poll and then left to the safety poll (300 s) shows as the maximum.
Backlog: N mails already in a folder, one ``poll_folder_once`` pass, mails per second.

    python bench/imap_latency.py [--mails 200] [--bursts 8] [--burst-size 100] [--backlog 1000]

Ends with one line: ``RESULT p50_ms=… p95_ms=… burst_p95_ms=… burst_max_ms=… backlog_mails_per_s=…``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import threading
import time
from pathlib import Path

from common import REPO, synthetic_mail  # also puts the repository on sys.path


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mails", type=int, default=200, help="mails appended one by one (latency)")
    parser.add_argument("--backlog", type=int, default=1000, help="mails in the backlog folder (throughput)")
    parser.add_argument("--bursts", type=int, default=8, help="bursts of continuous arrival")
    parser.add_argument("--burst-size", type=int, default=100, help="mails per burst, appended one by one")
    parser.add_argument("--burst-gap", type=float, default=3.0, help="seconds between bursts")
    parser.add_argument("--backend", default="embedding", help="scoring backend (default: the CPU model)")
    args = parser.parse_args()

    from tests.connectors.conftest import append, imap, write_accounts
    from tests.connectors.dovecot import Dovecot

    root = Path(tempfile.mkdtemp(prefix="mailroute-bench-imap-"))
    server = Dovecot(root / "dovecot")
    server.start()
    try:
        run(args, root, server, append, imap, write_accounts)
    finally:
        server.cleanup()


def run(args, root, server, append, imap, write_accounts) -> None:  # type: ignore[no-untyped-def]
    os.environ.update(
        MAILROUTE_DATABASE_URL=f"sqlite:///{root / 'bench.db'}",
        MAILROUTE_ACCOUNTS_FILE=str(write_accounts(root / "accounts.yaml", server, ["INBOX"])),
        MAILROUTE_ALLOW_PLAINTEXT="true",
        MAILROUTE_BACKEND=args.backend,
        MAILROUTE_RULES_PATH=str(REPO / "rules" / "examples" / "office.yaml"),
        TEST_IMAP_PASSWORD=server.password,
    )
    os.environ.pop("MAILROUTE_BROKER_URL", None)
    from connectors.imap.accounts import load_accounts
    from connectors.imap.client import session
    from connectors.imap.folder_config import FolderConfig
    from connectors.imap.poller import poll_folder_once
    from connectors.imap.watcher import FolderWatcher
    from worker.cli.common import quiet_libraries
    from worker.cli.db import upgrade
    from worker.core.settings import get_settings
    from worker.db.models import Decision, Message
    from worker.db.session import session_factory
    from worker.pipeline.runtime import build_runtime, set_runtime
    from worker.tasks import enqueue_classify

    quiet_libraries()
    settings = get_settings()
    upgrade()
    runtime = build_runtime(settings)
    model_s: list[float] = []
    score = runtime.scorer.score

    def timed_score(mails, labels, *, instruction=None):  # type: ignore[no-untyped-def]
        started = time.perf_counter()
        try:
            return score(mails, labels, instruction=instruction)
        finally:
            model_s.append(time.perf_counter() - started)

    runtime.scorer.score = timed_score  # type: ignore[method-assign]
    set_runtime(runtime)
    timed_score([synthetic_mail(-1).decode()], runtime.rule_set.label_texts())  # load + warm the model
    model_s.clear()
    account = load_accounts(settings.accounts_file)["test"]
    sessions = session_factory()

    done: dict[str, float] = {}
    woke: dict[str, float] = {}
    arrived = threading.Condition()

    def enqueue(ids: list[int]) -> None:
        enqueue_classify(ids, batch_size=settings.batch_size)  # eager: decided + actions applied here
        finished = time.perf_counter()
        with sessions() as db:
            mids = list(
                db.scalars(
                    Message.__table__.select()
                    .with_only_columns(Message.message_id)
                    .where(Message.id.in_(ids))
                )
            )
            with arrived:
                done.update({str(mid): finished for mid in mids})
                woke.update({str(mid): watcher.stats.last_wake for mid in mids})
                arrived.notify_all()

    watcher = FolderWatcher(account, "INBOX", sessions, settings, enqueue=enqueue)
    thread = threading.Thread(target=watcher.run, daemon=True)
    thread.start()
    while watcher.stats.polls < 1:
        time.sleep(0.01)
    client = imap(server)
    latencies: list[float] = []
    notify: list[float] = []
    for i in range(args.mails):
        raw = synthetic_mail(i)
        mid = raw.split(b"Message-ID: <", 1)[1].split(b">", 1)[0].decode()
        client.append("INBOX", raw)
        appended = time.perf_counter()
        with arrived:
            if not arrived.wait_for(lambda m=mid: m in done, timeout=30):
                print(server.log_tail(20), watcher.stats)
                raise SystemExit(f"mail {i} not decided within 30 s")
        latencies.append((done[mid] - appended) * 1000)
        notify.append(max(0.0, woke[mid] - appended) * 1000)
    burst = bursts(args, client, arrived, done)
    client.logout()
    watcher.stop.set()
    thread.join(timeout=10)
    if watcher.stats.losses:
        print(f"watcher lost its connection {watcher.stats.losses}x: {watcher.stats.errors[:3]}")
        print(server.log_tail(15))
    latency_model = [s * 1000 for s in model_s]
    after_wake = [total - wait for total, wait in zip(latencies, notify, strict=True)]
    around = [a - m for a, m in zip(after_wake, latency_model, strict=False)]
    with sessions() as db:
        decided = db.query(Decision).count()
    p50, p95 = percentile(latencies, 0.5), percentile(latencies, 0.95)
    print(
        f"arrival-to-decision over {len(latencies)} mails appended one by one (IDLE, {args.backend} "
        f"backend, actions applied; {decided} decisions): p50 {p50:.1f} ms, p95 {p95:.1f} ms, "
        f"max {max(latencies):.1f} ms"
    )
    print(
        f"  server's IDLE push (append -> EXISTS; Dovecot batches changes for 500 ms): "
        f"p50 {percentile(notify, 0.5):.1f} ms, p95 {percentile(notify, 0.95):.1f} ms"
    )
    print(
        f"  after the wake-up (fetch, store, score, decide, save, act): "
        f"p50 {percentile(after_wake, 0.5):.1f} ms, p95 {percentile(after_wake, 0.95):.1f} ms"
    )
    print(
        f"  the model alone: p50 {statistics.median(latency_model):.1f} ms, "
        f"p95 {percentile(latency_model, 0.95):.1f} ms; the path around the model (after wake-up): "
        f"p50 {percentile(around, 0.5):.1f} ms, p95 {percentile(around, 0.95):.1f} ms"
    )

    append(server, [synthetic_mail(100_000 + i) for i in range(args.backlog)], folder="Backlog")
    config = FolderConfig("test", "Backlog", batch=settings.imap_fetch_batch, backlog_limit=0)
    started = time.perf_counter()
    with session(account, settings) as imap_client:
        result = poll_folder_once(imap_client, sessions, config, enqueue=enqueue)
    elapsed = time.perf_counter() - started
    rate = result.stored / elapsed
    print(
        f"backlog: {result.stored} mails fetched, stored, decided and acted on in {elapsed:.1f} s "
        f"= {rate:.0f} mails/s (batches of {config.batch})"
    )
    print(
        f"RESULT p50_ms={p50:.1f} p95_ms={p95:.1f} burst_p95_ms={percentile(burst, 0.95):.1f} "
        f"burst_max_ms={max(burst):.1f} backlog_mails_per_s={rate:.1f}"
    )


def bursts(args, client, arrived: threading.Condition, done: dict[str, float]) -> list[float]:  # type: ignore[no-untyped-def]
    """Continuous arrival: each mail's APPEND → decision, in ms, over every burst."""
    appended: dict[str, float] = {}
    for burst in range(args.bursts):
        for n in range(args.burst_size):
            raw = synthetic_mail(200_000 + burst * args.burst_size + n)
            mid = raw.split(b"Message-ID: <", 1)[1].split(b">", 1)[0].decode()
            client.append("INBOX", raw)
            appended[mid] = time.perf_counter()
        time.sleep(args.burst_gap)
    with arrived:
        if not arrived.wait_for(lambda: all(m in done for m in appended), timeout=600):
            raise SystemExit(f"{sum(m not in done for m in appended)} burst mails not decided within 600 s")
    latencies = [(done[m] - t) * 1000 for m, t in appended.items()]
    print(
        f"continuous arrival: {args.bursts} bursts of {args.burst_size} mails appended one by one, "
        f"{args.burst_gap:g} s apart: p50 {percentile(latencies, 0.5):.1f} ms, "
        f"p95 {percentile(latencies, 0.95):.1f} ms, max {max(latencies):.1f} ms"
    )
    return latencies


if __name__ == "__main__":
    main()
