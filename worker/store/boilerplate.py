"""Boilerplate subjects: a subject many mails of a profile share is left out of the scored text.

A ticket export or a web form gives every mail the same subject ("Customer request"); scored as
``Subject\\n\\nbody`` it drowns a short body (``bench/scoring_text.py``: HWU64 under one constant
subject, zero-shot accuracy 0.523 against 0.546 for the body alone). A subject is boilerplate when at
least ``min_shared`` of the mails counted carry it *and* they are at least :data:`MIN_SHARE` of them,
compared on the normalised subject (:func:`normalise`: Re:/Fwd: prefixes, case and whitespace
ignored), the mail itself included; such a mail is scored on its body alone (a mail with no body
keeps its subject). The share keeps the subjects of threads and newsletters, which carry the topic:
on Enron, leaving out every subject that ≥ 3 mails share costs 0.009 accuracy, and the most common
subject is on 3.3% of the mails.

:func:`boilerplate` is the decision, pure. Live classification counts a batch's subjects together with
the profile's decided messages of the last :data:`LOOKBACK_IDS` ids (:func:`stored_counts`, one
grouped query per profile and batch on the ``subject_key`` column, written when a message is decided);
``mailroute eval`` and the review simulation count over the evaluated set itself.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Collection, Mapping, Sequence

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from worker.db.models import Message, MessageStatus

DEFAULT_MIN_SHARED = 3  # MAILROUTE_SUBJECT_BOILERPLATE_MIN
MIN_SHARE = 0.05  # of the mails counted: above Enron's most common subject (3.3%), far below a form's
LOOKBACK_IDS = 5000  # stored messages counted: those of the profile among the last this many ids
_REPLY = re.compile(r"^(?:(?:re|fw|fwd)\s*:\s*)+")


def normalise(subject: str) -> str:
    """``subject`` in lower case, whitespace collapsed, leading Re:/Fw:/Fwd: prefixes removed."""
    return _REPLY.sub("", " ".join(subject.lower().split())).strip()


def boilerplate(
    subjects: Sequence[str],
    *,
    min_shared: int,
    known: Mapping[str, int] | None = None,
    known_total: int | None = None,
    min_share: float = MIN_SHARE,
) -> list[bool]:
    """For each subject, whether it is boilerplate: at least ``min_shared`` and ``min_share`` of the
    mails counted — ``subjects`` plus the ``known`` counts by normalised subject (``""``: mails without
    one; ``known_total``: how many mails those counts are of, if more than their sum) — share it. Empty
    subjects never are; ``min_shared < 1`` turns the rule off."""
    keys = [normalise(subject) for subject in subjects]
    if min_shared < 1:
        return [False] * len(keys)
    counts = Counter(keys)
    for key, count in (known or {}).items():
        counts[key] += count
    known_sum = sum((known or {}).values())
    mails = len(keys) + max(known_sum, known_total or 0)
    least = max(min_shared, min_share * mails)
    return [bool(key) and counts[key] >= least for key in keys]


def stored_counts(
    session: Session,
    profile: str,
    *,
    upto: int,
    exclude: Sequence[int] = (),
    lookback: int = LOOKBACK_IDS,
    keys: Collection[str] | None = None,
) -> tuple[Counter[str], int]:
    """(normalised subject → count, mails counted) over ``profile``'s decided messages with ids in
    ``(upto − lookback, upto]`` (``""``: no subject; ``exclude``: ids not to count, e.g. the batch).
    ``keys``: count only these subjects (the others still count in the total); None: every subject.

    One grouped query over a range of the primary key (Postgres: an index scan of the range, no other
    index helps). A message's ``subject_key`` (its normalised subject, written when it is decided) is
    compared in SQL, so only the asked keys come back; rows decided before that column existed come
    back by subject and are normalised here."""
    key = Message.subject_key
    wanted = (key if keys is None else case((key.in_(sorted(keys)), key))).label("wanted")
    legacy = case((key.is_(None), Message.subject)).label("legacy")
    query = (
        select(wanted, legacy, func.count())
        .where(
            Message.id > upto - lookback,
            Message.id <= upto,
            Message.profile == profile,
            Message.status == MessageStatus.DECIDED,
        )
        .group_by(wanted, legacy)
    )
    if exclude:
        query = query.where(Message.id.not_in(list(exclude)))
    counts: Counter[str] = Counter()
    total = 0
    for found, subject, count in session.execute(query):
        total += int(count)
        if found is not None:
            counts[found] += int(count)
        elif subject is not None or keys is None:  # a legacy row (or, for keys, one of the others)
            normal = normalise(subject or "")
            if keys is None or normal in keys:
                counts[normal] += int(count)
    return counts, total


def keep_subjects(
    session: Session,
    ids: Sequence[int],
    subjects: Sequence[str],
    profiles: Sequence[str],
    *,
    min_shared: int,
    lookback: int = LOOKBACK_IDS,
) -> list[bool]:
    """Live: for each message (``ids[i]`` of ``profiles[i]`` with ``subjects[i]``), whether its scored
    text keeps the subject. Counts the batch with its profile's recent stored messages."""
    keep = [True] * len(ids)
    if min_shared < 1 or not ids:
        return keep
    for profile in sorted(set(profiles)):
        members = [i for i, p in enumerate(profiles) if p == profile]
        mine = [subjects[i] for i in members]
        keys = {normalise(subject) for subject in mine} - {""}
        if not keys:  # no subject: nothing to count
            continue
        known, total = stored_counts(
            session, profile, upto=max(ids), exclude=ids, lookback=lookback, keys=keys
        )
        flags = boilerplate(mine, min_shared=min_shared, known=known, known_total=total)
        for i, drop in zip(members, flags, strict=True):
            keep[i] = not drop
    return keep


def keep_in_set(subjects: Sequence[str], *, min_shared: int, min_share: float = MIN_SHARE) -> list[bool]:
    """Evaluation and simulation: whether each mail keeps its subject, counted over the set itself."""
    return [not drop for drop in boilerplate(subjects, min_shared=min_shared, min_share=min_share)]
