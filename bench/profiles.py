"""Routing profiles: what deciding each mail by its own profile's published rule set costs.

Three ways to decide the same synthetic mails on Postgres, the model replaced by the constant
scorer (so only the path around the model is measured), interleaved over several rounds:
  * single  — ``classify_batch`` with one rule set (how every mail was routed before profiles);
  * profile — ``classify_profiles``, every mail of one profile (the version check + origins query);
  * mixed   — ``classify_profiles``, each batch half of one profile, half of another (two route()
              calls; the second profile's rule set is the office set under another name, so the
              work per mail is the same).
Prints mails/s for each and the ratios to ``single``.

    python bench/profiles.py [N_MAILS] [ROUNDS]
"""

from __future__ import annotations

import os
import sys
import time

from common import REPO, create_database, drop_database, synthetic_mail

os.environ.setdefault("HF_HUB_OFFLINE", "1")
OFFICE = REPO / "rules" / "examples" / "office.yaml"
BATCH = 32


def store(url: str, mails: list[bytes], tag: str, profiles: tuple[str, ...]) -> list[list[int]]:
    from worker.db.session import session_factory
    from worker.store.messages import Origin, store_messages

    batches, sessions = [], session_factory(url)
    for start in range(0, len(mails), BATCH):
        with sessions.begin() as session:
            chunk = mails[start : start + BATCH]
            items = [
                (raw, Origin("bench", tag, 1, start + i + 1, profiles[i % len(profiles)]))
                for i, raw in enumerate(chunk)
            ]
            batches.append([s.id for s in store_messages(session, items)])
    return batches


def decide(url: str, batches: list[list[int]], how: str) -> float:
    """Seconds to decide every batch, one transaction each (as the classify task does)."""
    from rules import load_rule_set
    from worker.db.session import session_factory
    from worker.pipeline.classify import classify_batch, classify_profiles
    from worker.pipeline.profiles import ProfileSources
    from worker.scoring.backends.constant import ConstantScorer

    sessions, scorer, office = session_factory(url), ConstantScorer(), load_rule_set(OFFICE)
    sources = ProfileSources(sessions, rules_path=OFFICE)
    sources("default"), sources("second")  # warm: parsed once, as in a running worker
    started = time.perf_counter()
    for ids in batches:
        with sessions.begin() as session:
            if how == "single":
                result = classify_batch(session, ids, scorer, office)
            else:
                result = classify_profiles(session, ids, scorer, sources)
            assert len(result.decided) == len(ids), result.failed
    return time.perf_counter() - started


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1024
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    from worker.cli.db import upgrade
    from worker.db.session import session_factory
    from worker.store import rulesets

    url = create_database()
    try:
        upgrade(url=url)
        with session_factory(url).begin() as session:
            second = OFFICE.read_text().replace("name: office", "name: office-second", 1)
            rulesets.publish(session, "second", second, author="bench")
        layouts = {"single": ("default",), "profile": ("default",), "mixed": ("default", "second")}
        seconds: dict[str, list[float]] = {how: [] for how in layouts}
        for r in range(rounds):
            order = list(layouts.items())
            order = order[r % len(order) :] + order[: r % len(order)]  # each layout first in turn
            for k, (how, profiles) in enumerate(order):
                mails = [synthetic_mail((r * len(order) + k) * n + i) for i in range(n)]
                batches = store(url, mails, f"{how}-{r}", profiles)
                seconds[how].append(decide(url, batches, how))
        rate = {how: n / min(values) for how, values in seconds.items()}  # best round of each
        for how in layouts:
            print(f"{how:8s} {rate[how]:8.0f} mails/s  (best of {rounds} rounds of {n} mails)")
        profile_ratio, mixed_ratio = rate["profile"] / rate["single"], rate["mixed"] / rate["single"]
        print(f"profile/single {profile_ratio:.2f}  mixed/single {mixed_ratio:.2f}")
        print(
            f"RESULT single_mails_s={rate['single']:.0f} profile_mails_s={rate['profile']:.0f} "
            f"mixed_mails_s={rate['mixed']:.0f} profile_over_single={profile_ratio:.2f} "
            f"mixed_over_single={mixed_ratio:.2f}"
        )
    finally:
        drop_database(url)


if __name__ == "__main__":
    main()
