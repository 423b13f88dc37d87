"""Load: N mails through a real IMAP server → `mailroute poll` → Redis → Celery worker → decision.

Everything real and private to the run: a Dovecot on a free port, a private redis-server, a fresh
Postgres database, one `mailroute poll` process (IDLE) and one Celery worker (2 processes). An
appender pushes the mails into INBOX (``--rate`` mails/s, 0 = as fast as IMAP takes them) while a
monitor samples queue depth and the memory of every process once a second. Latency of a mail =
its decision row's time − the end of the APPEND that delivered it (so it includes the backlog wait
when the offered rate is above capacity). Checks at the end: every mail decided exactly once.

    python bench/load.py --mails 10000 --backend constant
    python bench/load.py --mails 10000 --backend embedding --timeout 3000
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from email.message import EmailMessage
from pathlib import Path

from common import PG_ADMIN, REPO, TOPICS, create_database, drop_database, percentile

from tests.chaos.services import PrivateRedis, kill_group, start_worker, wait_for
from tests.connectors.dovecot import Dovecot

os.environ.setdefault("HF_HUB_OFFLINE", "1")
RULES = REPO / "rules" / "examples" / "office.yaml"


def load_mail(i: int, run: str) -> tuple[str, bytes]:
    subject, body = TOPICS[i % len(TOPICS)]
    msg = EmailMessage()
    msg["From"] = f"person{i % 97}@example.com"
    msg["To"] = "team@example.com"
    msg["Subject"] = f"{subject} #{i}"
    mid = f"load-{run}-{i}@example.com"
    msg["Message-ID"] = f"<{mid}>"
    msg.set_content(f"{body}\n\nReference {i}. Kind regards,\nPerson {i % 97}")
    return mid, msg.as_bytes()


def rss_by_role(procs: dict[str, int]) -> dict[str, float]:
    """MiB of resident memory per role; a Celery worker is its parent plus each child."""
    import psutil

    out: dict[str, float] = {}
    for role, pid in procs.items():
        try:
            proc = psutil.Process(pid)
            out[role] = proc.memory_info().rss / 2**20
            if role == "celery-main":
                for i, child in enumerate(proc.children()):
                    out[f"celery-child-{i}"] = child.memory_info().rss / 2**20
        except psutil.Error:
            continue
    return out


def run(args: argparse.Namespace) -> dict[str, object]:
    from sqlalchemy import func, select

    from worker.cli.db import upgrade
    from worker.db.models import Decision, Message, PollCursor
    from worker.db.session import session_factory

    tmp = Path(tempfile.mkdtemp(prefix="mailroute-load-"))
    server = Dovecot(tmp / "dovecot")
    server.start()
    broker = PrivateRedis()
    broker.start()
    db = create_database()
    upgrade(url=db)
    accounts = tmp / "accounts.yaml"
    accounts.write_text(
        f"accounts:\n  - name: load\n    host: 127.0.0.1\n    port: {server.port}\n    tls: none\n"
        f"    username: {server.user}\n    password_env: LOAD_IMAP_PASSWORD\n    folders: [INBOX]\n"
    )
    env = {
        "MAILROUTE_DATABASE_URL": db,
        "MAILROUTE_BROKER_URL": broker.url,
        "MAILROUTE_BACKEND": args.backend,
        "MAILROUTE_RULES_PATH": str(RULES),
        "MAILROUTE_ACCOUNTS_FILE": str(accounts),
        "MAILROUTE_ALLOW_PLAINTEXT": "true",
        "MAILROUTE_BACKLOG_LIMIT": "0",
        "MAILROUTE_BATCH_SIZE": str(args.batch),
        "LOAD_IMAP_PASSWORD": server.password,
        "OMP_NUM_THREADS": "1",  # two worker processes on two cores: one thread each
        "HF_HUB_OFFLINE": "1",
    }
    sessions = session_factory(db)
    samples: list[dict[str, float]] = []
    peak: dict[str, float] = {}
    worker = poller = None
    stop = threading.Event()
    appended: dict[str, float] = {}
    try:
        worker = start_worker(env, tmp / "worker.log", concurrency=args.concurrency)
        poller = subprocess.Popen(
            [sys.executable, "-c", "from worker.cli import main; main()", "poll"],
            cwd=REPO,
            env={**os.environ, **env},
            stdout=(tmp / "poll.log").open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        ready = wait_for(lambda: "ready" in (tmp / "worker.log").read_text(errors="replace"), 300, 0.5)
        assert ready, (tmp / "worker.log").read_text()[-2000:]

        def has_cursor() -> bool:
            with sessions() as s:
                return s.scalar(select(func.count(PollCursor.id))) == 1

        assert wait_for(has_cursor, 120, 0.2), (tmp / "poll.log").read_text()[-2000:]
        procs = {"poller": poller.pid, "celery-main": worker.pid, "redis": broker.process.pid}  # type: ignore[union-attr]

        def counts() -> tuple[int, int]:
            with sessions() as s:
                stored = int(s.scalar(select(func.count(Message.id))) or 0)
                decided = int(s.scalar(select(func.count(Decision.id))) or 0)
            return stored, decided

        t0 = time.time()

        def monitor() -> None:
            while not stop.is_set():
                stored, decided = counts()
                mem = rss_by_role(procs)
                for role, mib in mem.items():
                    peak[role] = max(peak.get(role, 0.0), mib)
                samples.append(
                    {
                        "t": time.time() - t0,
                        "appended": len(appended),
                        "stored": stored,
                        "decided": decided,
                        "redis_classify": broker.queue_length("classify"),
                        "undecided": stored - decided,
                        **{f"rss_{k}": v for k, v in mem.items()},
                    }
                )
                stop.wait(1.0)

        mon = threading.Thread(target=monitor, daemon=True)
        mon.start()
        run_id = uuid.uuid4().hex[:8]
        from imapclient import IMAPClient

        client = IMAPClient(server.host, server.port, ssl=False, timeout=60)
        client.login(server.user, server.password)
        chunk = 50
        started = time.time()
        for start in range(0, args.mails, chunk):
            mails = [load_mail(i, run_id) for i in range(start, min(start + chunk, args.mails))]
            client.multiappend("INBOX", [raw for _, raw in mails])
            done = time.time()
            appended.update((mid, done) for mid, _ in mails)
            if args.rate:
                ahead = started + (start + len(mails)) / args.rate - time.time()
                if ahead > 0:
                    time.sleep(ahead)
        client.logout()
        append_s = time.time() - started
        finished = wait_for(lambda: counts()[1] >= args.mails, args.timeout, 1.0)
        elapsed = time.time() - started
        stop.set()
        mon.join(timeout=5)
        with sessions() as s:
            rows = s.execute(
                select(Message.message_id, Decision.created_at).join(
                    Decision, Decision.message_id == Message.id
                )
            ).all()
            per_message = s.execute(
                select(Decision.message_id, func.count()).group_by(Decision.message_id)
            ).all()
            n_messages = int(s.scalar(select(func.count(Message.id))) or 0)
        latencies = [ts.timestamp() - appended[mid] for mid, ts in rows if mid in appended]
        last = max((ts.timestamp() for _, ts in rows), default=started)
        decided = len(per_message)
        result: dict[str, object] = {
            "backend": args.backend,
            "mails": args.mails,
            "rate": args.rate or "max",
            "finished": finished,
            "stored": n_messages,
            "decided": decided,
            "lost": args.mails - decided,
            "duplicate_decisions": sum(n - 1 for _, n in per_message),
            "append_s": round(append_s, 1),
            "elapsed_s": round(last - started, 1) if finished else round(elapsed, 1),
            "throughput_mails_s": round(decided / max(1e-9, last - started), 1),
            "latency_p50_s": round(percentile(latencies, 0.50), 2),
            "latency_p95_s": round(percentile(latencies, 0.95), 2),
            "latency_p99_s": round(percentile(latencies, 0.99), 2),
            "max_queue_depth": max((int(s["redis_classify"]) for s in samples), default=0),
            "max_undecided": max((int(s["undecided"]) for s in samples), default=0),
            "peak_rss_mib": {k: round(v) for k, v in sorted(peak.items())},
        }
        out = Path(args.out or tmp)
        out.mkdir(parents=True, exist_ok=True)
        (out / f"load-{args.backend}.json").write_text(json.dumps({"result": result, "samples": samples}))
        plot(samples, out / f"load-{args.backend}.png", title=f"{args.mails} mails, {args.backend} scorer")
        return result
    finally:
        stop.set()
        for proc in (poller, worker):
            if proc is not None:
                kill_group(proc, 15)
        broker.stop()
        server.cleanup()
        drop_database(db)


def plot(samples: list[dict[str, float]], path: Path, *, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    t = [s["t"] for s in samples]
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(8, 6), sharex=True)
    top.plot(t, [s["appended"] for s in samples], label="appended (IMAP)")
    top.plot(t, [s["decided"] for s in samples], label="decided")
    top.set_ylabel("mails")
    top.legend()
    top.set_title(title)
    bottom.plot(t, [s["undecided"] for s in samples], label="stored, not yet decided")
    bottom.plot(
        t, [max(0, s["redis_classify"]) * 32 for s in samples], label="Redis classify queue (×32 mails)"
    )
    bottom.set_xlabel("seconds")
    bottom.set_ylabel("queue depth (mails)")
    bottom.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--mails", type=int, default=10000)
    parser.add_argument("--backend", default="constant", choices=["constant", "embedding"])
    parser.add_argument("--rate", type=float, default=0.0, help="mails/s offered (0 = as fast as possible)")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument(
        "--timeout", type=float, default=1800.0, help="give up waiting after this many seconds"
    )
    parser.add_argument("--out", default=None, help="folder for the JSON samples and the queue-depth plot")
    args = parser.parse_args()
    print(f"postgres: {PG_ADMIN.rsplit('@', 1)[-1]}", flush=True)
    result = run(args)
    print(json.dumps(result, indent=1))
    print(
        f"RESULT load backend={result['backend']} mails={result['mails']} decided={result['decided']} "
        f"lost={result['lost']} duplicates={result['duplicate_decisions']} "
        f"throughput={result['throughput_mails_s']}/s p50={result['latency_p50_s']}s "
        f"p95={result['latency_p95_s']}s p99={result['latency_p99_s']}s max_queue={result['max_undecided']}"
    )
    sys.exit(0 if result["lost"] == 0 and result["duplicate_decisions"] == 0 else 1)


if __name__ == "__main__":
    main()
