"""CPU per webhook delivery: the batch task's plain function, in-process, on Postgres.

N mails are stored and decided inline (constant scorer, a rule set whose every category sends one
webhook), then ``mailroute.deliver_webhooks``' function delivers the queued actions in batches of 32
to a loopback receiver in another process (bench/sink.py), and this process's CPU time is read around
it — all of it, and the main thread's alone (loading the rows, building and signing the documents,
recording the outcomes; the rest is the POST threads). Postgres' own CPU is not in the figure.

Run it at two commits to compare a change to the step (``git worktree add``), back to back:

    python bench/webhook_cpu.py [--mails 2000]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import create_database, drop_database, inline_worker  # also puts the repo on sys.path
from load import load_mail
from pipeline import store_all

WARM_BATCHES = 2
RULES = """\
name: webhook-cpu
instruction: Given an email, judge whether it belongs to the category described
policy: {mode: top_k, top_k: 1, threshold: 0.0}
categories:
  - {name: alert, description: An automated notification., actions: [{kind: webhook, target: sink}]}
  - {name: progress, description: A status update on work., actions: [{kind: webhook, target: sink}]}
"""
RECEIVER = "import sys; from sink import Sink; s = Sink(); print(s.url, flush=True); sys.stdin.read()"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--mails", type=int, default=2000)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="mailroute-webhook-cpu-"))
    bench = str(Path(__file__).resolve().parent)
    receiver = subprocess.Popen(
        [sys.executable, "-c", RECEIVER], cwd=bench, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    db = create_database()
    try:
        url = receiver.stdout.readline().strip()  # type: ignore[union-attr]
        (tmp / "rules.yaml").write_text(RULES)
        (tmp / "webhooks.yaml").write_text(f"endpoints:\n  sink:\n    url: {url}\n    secret: bench\n")
        inline_worker(db, tmp / "rules.yaml", MAILROUTE_WEBHOOKS_FILE=str(tmp / "webhooks.yaml"))
        import worker.tasks.jobs as jobs
        import worker.tasks.wiring  # noqa: F401 - registers the executors
        from worker.tasks.webhook_batch import deliver_many

        queued: list[int] = []
        jobs.enqueue_actions = lambda ids, **_: queued.extend(ids)  # type: ignore[assignment]
        mails = [load_mail(i, "webhook-cpu")[1] for i in range(args.mails + 32 * WARM_BATCHES)]
        for batch in store_all(db, mails, "webhook-cpu"):
            jobs.classify.run(batch)
        batches = [queued[start : start + 32] for start in range(0, len(queued), 32)]
        for batch in batches[:WARM_BATCHES]:  # the HTTP connections, the statement caches
            deliver_many(batch)
        n = sum(len(batch) for batch in batches[WARM_BATCHES:])
        cpu, main_cpu, wall = time.process_time(), time.thread_time(), time.perf_counter()
        outcomes: dict[str, int] = {}
        for batch in batches[WARM_BATCHES:]:
            for status, count in deliver_many(batch).items():
                outcomes[status] = outcomes.get(status, 0) + count
        cpu, main_cpu = time.process_time() - cpu, time.thread_time() - main_cpu
        wall = time.perf_counter() - wall
    finally:
        receiver.stdin.close()  # type: ignore[union-attr]
        receiver.wait(10)
        drop_database(db)
    per, main_per = 1000 * cpu / n, 1000 * main_cpu / n
    print(f"{n} deliveries in batches of 32 ({outcomes}): {per:.3f} ms of CPU each")
    print(
        f"  main thread (rows, documents, outcomes) {main_per:.3f} ms, POST threads {per - main_per:.3f} ms"
    )
    print(f"RESULT webhook_cpu_ms={per:.3f} main_thread_ms={main_per:.3f} deliveries_per_s={n / wall:.1f}")
    sys.exit(0 if outcomes == {"done": n} else 1)


if __name__ == "__main__":
    main()
