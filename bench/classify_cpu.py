"""CPU per mail of the classify step alone: the task's plain function, in-process, on Postgres.

N synthetic mails are stored in batches of 32 (as the poller does) in a fresh database; then
``mailroute.classify``'s function decides each batch inline (constant scorer, no broker: the actions
it would queue are dropped) and this process's CPU time is read around it. What it covers: loading
the pending rows, parsing, following threads, counting boilerplate subjects, routing, and writing
scores, decisions, outbox rows and message columns. Postgres' own CPU is not in the figure.

Run it at two commits to compare a change to the step (``git worktree add``), back to back:

    python bench/classify_cpu.py [--mails 2000]
"""

from __future__ import annotations

import argparse
import time

# common also puts the repo on sys.path
from common import create_database, drop_database, inline_worker, synthetic_mail
from pipeline import RULES, store_all

WARM_BATCHES = 2


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--mails", type=int, default=2000)
    args = parser.parse_args()
    db = create_database()
    try:
        inline_worker(db, RULES)
        import worker.tasks.jobs as jobs

        jobs.enqueue_actions = lambda *_, **__: None  # type: ignore[assignment]  # the step alone
        mails = [synthetic_mail(i) for i in range(args.mails + 32 * WARM_BATCHES)]
        batches = store_all(db, mails, "classify-cpu")
        for batch in batches[:WARM_BATCHES]:  # the runtime, the rule set and the statement caches
            jobs.classify.run(batch)
        cpu, wall = time.process_time(), time.perf_counter()
        for batch in batches[WARM_BATCHES:]:
            jobs.classify.run(batch)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    finally:
        drop_database(db)
    per_mail = 1000 * cpu / args.mails
    rate = args.mails / wall
    print(f"{args.mails} mails in batches of 32: {per_mail:.3f} ms of CPU per mail, {rate:.0f} mails/s")
    print(f"RESULT classify_cpu_ms_per_mail={per_mail:.3f} mails_per_s={rate:.1f}")


if __name__ == "__main__":
    main()
