"""End to end: IMAP → `mailroute poll` → Postgres/Redis → Celery workers → keyword on the server + webhook.

Everything real and private to the run: a Dovecot on a free port, a private redis-server, a fresh
Postgres database, one `mailroute poll` process, the two Celery workers the README/docker-compose
deploy (a classify worker, 2 processes; an actions+webhooks worker, 4 processes) and a loopback
webhook receiver (HTTP/1.1 keep-alive, answers 200). The rule set gives every mail one IMAP keyword
and one webhook.

  backfill   (default) N mails are in INBOX before the poller starts; the clock starts with the poller.
  continuous (--rate R --seconds S) mails are appended at R/s for S s once the poller is idle; the
             clock starts at the first APPEND; reports p95 arrival→last effect and the max backlog.

The end is the last effect: the keyword read back on the server (SEARCH KEYWORD, polled) and the
webhook received. Every mail's keyword and webhook is verified. In the same run the pipeline alone is
measured as bench/pipeline.py does (store → decision, Postgres + Redis + a warm classify worker; the
median of --pipeline-runs samples, 3 by default) and, with --backend embedding, the scoring rate of the
model alone (same mails, same rule set, in-process).

    python bench/e2e.py --mails 2000 --backend constant
    python bench/e2e.py --rate 100 --seconds 60
    python bench/e2e.py --mails 1000 --backend embedding
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from common import PG_ADMIN, REPO, create_database, drop_database, percentile, start_worker, synthetic_mail
from cpu import CpuMeter, report, tree, wait_idle
from load import load_mail
from sink import Sink

from tests.chaos.services import PrivateRedis, kill_group, wait_for
from tests.connectors.dovecot import Dovecot

if TYPE_CHECKING:
    from imapclient import IMAPClient

os.environ.setdefault("HF_HUB_OFFLINE", "1")
KEYWORD = "routed"
RULES = """\
name: e2e
instruction: Given an email, judge whether it belongs to the category described
policy: {mode: top_k, top_k: 1, threshold: 0.0}
categories:
"""
CATEGORY = (
    "  - name: {name}\n"
    "    description: {description}\n"
    "    actions:\n"
    f"      - {{{{kind: imap_keyword, target: {KEYWORD}}}}}\n"
    "      - {{kind: webhook, target: sink}}\n"
)
NAMES = {
    "alert": "An automated notification from a monitoring or IT system.",
    "progress": "A status update on ongoing project work.",
    "meeting": "An invitation or change to a meeting.",
    "inquiry": "A question from a customer about products or prices.",
    "urgent": "A request that needs attention today.",
}


@contextmanager
def inbox(server: Dovecot) -> Iterator[IMAPClient]:
    """A logged-in session with INBOX selected read-only."""
    from imapclient import IMAPClient

    with IMAPClient(server.host, server.port, ssl=False, timeout=60) as client:
        client.login(server.user, server.password)
        client.select_folder("INBOX", readonly=True)
        yield client


def keyword_count(server: Dovecot) -> int:
    with inbox(server) as client:
        return len(client.search(["KEYWORD", KEYWORD]))


def watch_keywords(server: Dovecot, n: int, until: float, done: threading.Event) -> float | None:
    """When all ``n`` mails carry the keyword on the server: one session, NOOP + SEARCH every 0.1 s
    (a new login per look cost Dovecot more CPU than the looks, and a coarser poll overstated the end)."""
    with inbox(server) as client:
        while not done.is_set() and time.time() < until:
            client.noop()
            if len(client.search(["KEYWORD", KEYWORD])) >= n:
                return time.time()
            time.sleep(0.1)
    return None


def stage_times(db: str) -> tuple[dict[str, list[float]], dict[str, float]]:
    """Per stage, the time each mail passed it (Unix s); and message-id → its keyword STORE's end."""
    from sqlalchemy import select

    from worker.db.models import Action, Decision, Message
    from worker.db.session import session_factory

    with session_factory(db)() as s:
        stored = [t.timestamp() for t in s.scalars(select(Message.received_at))]
        decided = [t.timestamp() for t in s.scalars(select(Decision.created_at))]
        rows = s.execute(
            select(Message.message_id, Action.done_at)
            .join(Action, Action.message_id == Message.id)
            .where(Action.kind == "imap_keyword", Action.done_at.is_not(None))
        ).all()
    acted = {mid: t.timestamp() for mid, t in rows}
    return {"stored": stored, "decided": decided, "keyword acted": list(acted.values())}, acted


def backends(db: str) -> Callable[[], list[int]]:
    """The pids of the Postgres backends serving database ``db`` (asked from another database)."""
    import psycopg

    conn = psycopg.connect(PG_ADMIN.replace("+psycopg", ""), autocommit=True)
    name = db.rsplit("/", 1)[1]

    def pids() -> list[int]:
        rows = conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s", (name,))
        return [int(pid) for (pid,) in rows]

    return pids


def meter(procs: list[subprocess.Popen[bytes]], server: Dovecot, broker: PrivateRedis, db: str) -> CpuMeter:
    """CPU per process group: procs are [classify worker, actions worker, poller] once started."""
    cpu = CpuMeter()
    names = ["classify worker (2 processes)", "actions+webhooks worker (4)", "poller (mailroute poll)"]
    for i, name in enumerate(names):
        cpu.add(name, lambda i=i: tree(procs[i].pid) if len(procs) > i else [])
    cpu.add("postgres (this run's database)", backends(db))
    cpu.add("dovecot", lambda: tree(server.process.pid if server.process else None))
    cpu.add("redis", lambda: tree(broker.process.pid if broker.process else None))
    cpu.add("bench (receiver, watcher)", lambda: [os.getpid()])
    return cpu


def model_alone_rate(mails: list[bytes], rules: Path, batch: int) -> float:
    """Mails/s of the embedding model scoring these mails' texts in-process, nothing around it."""
    from rules.loader import load_rule_set
    from worker.core.settings import Settings
    from worker.parsing.message import parse_message
    from worker.scoring.registry import create_scorer

    settings = Settings(backend="embedding", rules_path=rules, batch_size=batch)
    rule_set = load_rule_set(rules)
    texts = [parse_message(raw, max_chars=settings.max_chars).scoring_text for raw in mails]
    scorer = create_scorer(settings, cached=False)
    labels = rule_set.label_texts()
    scorer.score(texts[:batch], labels, instruction=rule_set.instruction)  # warm-up, label prototypes
    started = time.perf_counter()
    for start in range(0, len(texts), batch):
        scorer.score(texts[start : start + batch], labels, instruction=rule_set.instruction)
    return len(texts) / (time.perf_counter() - started)


def run(args: argparse.Namespace, tmp: Path) -> dict[str, object]:
    from imapclient import IMAPClient
    from sqlalchemy import func, select

    from worker.cli.db import upgrade
    from worker.db.models import Message, PollCursor
    from worker.db.session import session_factory

    continuous = bool(args.rate)
    n = int(args.rate * args.seconds) if continuous else args.mails
    run_id = uuid.uuid4().hex[:8]
    mails = [load_mail(i, run_id) for i in range(n)]
    server = Dovecot(tmp / "dovecot")
    server.start()
    broker = PrivateRedis()
    broker.start()
    sink = Sink()
    db = create_database()
    upgrade(url=db)
    rules = tmp / "e2e.yaml"
    rules.write_text(RULES + "".join(CATEGORY.format(name=k, description=v) for k, v in NAMES.items()))
    (tmp / "webhooks.yaml").write_text(f"endpoints:\n  sink:\n    url: {sink.url}\n    secret: e2e-bench\n")
    (tmp / "accounts.yaml").write_text(
        f"accounts:\n  - name: e2e\n    host: 127.0.0.1\n    port: {server.port}\n    tls: none\n"
        f"    username: {server.user}\n    password_env: E2E_IMAP_PASSWORD\n    folders: [INBOX]\n"
    )
    env = {
        "MAILROUTE_DATABASE_URL": db,
        "MAILROUTE_BROKER_URL": broker.url,
        "MAILROUTE_BACKEND": args.backend,
        "MAILROUTE_RULES_PATH": str(rules),
        "MAILROUTE_ACCOUNTS_FILE": str(tmp / "accounts.yaml"),
        "MAILROUTE_WEBHOOKS_FILE": str(tmp / "webhooks.yaml"),
        "MAILROUTE_ALLOW_PLAINTEXT": "true",
        "MAILROUTE_BACKLOG_LIMIT": "0",
        "MAILROUTE_BATCH_SIZE": str(args.batch),
        "E2E_IMAP_PASSWORD": server.password,
        "OMP_NUM_THREADS": "1",
        "HF_HUB_OFFLINE": "1",
    }
    sessions = session_factory(db)
    procs: list[subprocess.Popen[bytes]] = []
    appended: dict[str, float] = {}
    backlog: list[int] = []
    try:
        procs.append(start_worker(env, queues="classify", concurrency=2, log=tmp / "classify.log"))
        procs.append(start_worker(env, queues="actions,webhooks", concurrency=4, log=tmp / "actions.log"))
        client = IMAPClient(server.host, server.port, ssl=False, timeout=60)
        client.login(server.user, server.password)
        if not continuous:
            for start in range(0, n, 100):
                client.multiappend("INBOX", [raw for _, raw in mails[start : start + 100]])
        time.sleep(args.warm_s)  # the workers import and load the model before the clock starts
        for proc in procs:  # ... however long that takes (a fresh machine exports the model first)
            waited = wait_idle(lambda proc=proc: tree(proc.pid), timeout_s=args.timeout)
            if waited > 1.5:
                print(f"  a worker was still starting: idle {waited:.1f} s after the warm-up")

        def start_poller() -> None:
            procs.append(
                subprocess.Popen(
                    [sys.executable, "-c", "from worker.cli import main; main()", "poll"],
                    cwd=REPO,
                    env={**os.environ, **env},
                    stdout=(tmp / "poll.log").open("ab"),
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            )

        def stored_count() -> int:
            with sessions() as s:
                return int(s.scalar(select(func.count(Message.id))) or 0)

        cpu = meter(procs, server, broker, db)
        if continuous:
            start_poller()
            with sessions() as s:
                ok = wait_for(lambda: (s.scalar(select(func.count(PollCursor.id))) or 0) >= 1, 120, 0.2)
            assert ok, (tmp / "poll.log").read_text()[-2000:]
            time.sleep(2)
        t0 = time.time()
        cpu.start()
        if not continuous:
            start_poller()
            for mid, _ in mails:
                appended[mid] = t0
        done = threading.Event()
        keyword_at: list[float | None] = []
        watcher = threading.Thread(
            target=lambda: keyword_at.append(watch_keywords(server, n, t0 + args.timeout, done)), daemon=True
        )
        watcher.start()
        if continuous:
            chunk = max(1, int(args.rate / 10))  # ten APPENDs a second
            for start in range(0, n, chunk):
                part = mails[start : start + chunk]
                client.multiappend("INBOX", [raw for _, raw in part])
                now = time.time()
                appended.update((mid, now) for mid, _ in part)
                backlog.append(len(appended) - len(sink.seen))
                ahead = t0 + (start + len(part)) / args.rate - time.time()
                if ahead > 0:
                    time.sleep(ahead)
        client.logout()
        webhooks_ok = wait_for(lambda: len(sink.seen) >= n, args.timeout, 0.1)
        watcher.join(args.timeout)
        done.set()
        keyword_done = keyword_at[0] if keyword_at else None
        webhook_done = max(sink.seen.values(), default=t0)
        used = cpu.stop()
        stored = stored_count()
        stages, acted = stage_times(db)
    finally:
        for proc in reversed(procs):
            kill_group(proc, 15)
        broker.stop()
        sink.close()
    keywords_on_server = keyword_count(server)
    server.cleanup()
    drop_database(db)
    end = max(webhook_done, keyword_done or t0)
    stage_at = {
        name: (min(times, default=t0) - t0, max(times, default=t0) - t0) for name, times in stages.items()
    }
    stage_at["keyword on server"] = (float("nan"), (keyword_done or float("nan")) - t0)
    stage_at["webhook received"] = (min(sink.seen.values(), default=t0) - t0, webhook_done - t0)
    # a mail's last effect: its webhook received or its keyword stored, whichever came later
    latencies = [max(sink.seen.get(m, end), acted.get(m, end)) - appended[m] for m, _ in mails]
    return {
        "mode": f"continuous {args.rate:g}/s for {args.seconds:g}s" if continuous else "backfill",
        "mails": n,
        "stored": stored,
        "keywords_on_server": keywords_on_server,
        "webhooks_received": len(sink.seen),
        "webhook_posts": sink.posts,
        "receiver_errors": sink.errors[:3],
        "verified": bool(
            webhooks_ok
            and keyword_done
            and keywords_on_server == n
            and len(sink.seen) == n
            and not sink.errors
        ),
        "elapsed_s": end - t0,
        "stage_s": stage_at,
        "e2e_mails_per_s": n / (end - t0),
        "p95_arrival_to_last_effect_s": percentile(latencies, 0.95),
        "max_backlog": max(backlog, default=0),
        "cpu": report(used, n, cpu.window_s),
    }


def pipeline_rate(n: int, broker_url: str) -> float:
    """bench/pipeline.py's Postgres figure (store → decision, warm classify worker) on this run's broker."""
    import pipeline

    pipeline.REDIS = broker_url.rsplit("/", 1)[0]
    rate, _ = pipeline.run_postgres([synthetic_mail(10**7 + i) for i in range(n)])
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--mails", type=int, default=2000)
    parser.add_argument("--backend", default="constant", choices=["constant", "embedding"])
    parser.add_argument("--rate", type=float, default=0.0, help="continuous mode: mails/s appended")
    parser.add_argument("--seconds", type=float, default=60.0, help="continuous mode: for how long")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--warm-s", type=float, default=8.0, help="let the workers start before the clock")
    parser.add_argument("--timeout", type=float, default=900.0)
    parser.add_argument("--pipeline-runs", type=int, default=3, help="samples of the pipeline alone (median)")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="mailroute-e2e-"))
    result = run(args, tmp)
    n = int(result["mails"])  # type: ignore[call-overload]
    broker = PrivateRedis()
    broker.start()
    try:  # one ~2 s sample moved by ±12 % from run to run: the median of a few
        pipes = [pipeline_rate(min(n, 2000), broker.url) for _ in range(args.pipeline_runs)]
    finally:
        broker.stop()
    pipe = statistics.median(pipes)
    print(f"{result['mode']}, {args.backend} scorer, {n} mails; logs in {tmp}")
    print(f"  pipeline alone: {', '.join(f'{p:.1f}' for p in pipes)} mails/s (median {pipe:.1f})")
    for name, (first, last) in result["stage_s"].items():  # type: ignore[attr-defined]
        print(f"  {name:18s} first at {first:7.2f} s, last at {last:7.2f} s")
    print("CPU per mail from the clock's start to the last effect:")
    for line in result["cpu"]:  # type: ignore[attr-defined]
        print(line)
    for key in (
        "stored",
        "keywords_on_server",
        "webhooks_received",
        "webhook_posts",
        "receiver_errors",
        "verified",
    ):
        print(f"  {key}: {result[key]}")
    e2e = float(result["e2e_mails_per_s"])  # type: ignore[arg-type]
    line = f"RESULT e2e_mails_per_s={e2e:.1f} pipeline_mails_per_s={pipe:.1f} ratio={e2e / pipe:.3f}"
    if args.rate:
        line += f" p95_s={result['p95_arrival_to_last_effect_s']:.2f} max_backlog={result['max_backlog']}"
    if args.backend == "embedding":
        sample = [load_mail(i, "model")[1] for i in range(min(n, 512))]
        model = model_alone_rate(sample, tmp / "e2e.yaml", args.batch)
        line += f" model_mails_per_s={model:.1f} e2e_model_ratio={e2e / model:.3f}"
    line += f" verified={result['verified']}"
    print(line)
    sys.exit(0 if result["verified"] else 1)


if __name__ == "__main__":
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[attr-defined]
    main()
