"""Published rule-set versions per routing profile, kept in the database (Postgres, or SQLite embedded).

Contract: :func:`publish` validates the YAML with the rule engine's own loader before anything is
written, so an invalid rule set can never become a version (it raises ``RuleSetError("SOURCE:LINE:
KEY: message")``). Versions count up from 1 per profile and are never changed; the live one is the
highest (:func:`head`, one indexed ``max()`` — what workers check per batch). A rollback publishes an
old version's YAML again as a new version, so the history stays a plain log. The caller commits.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from rules import RuleSet, parse_rule_set
from worker.core.errors import InputError
from worker.db import audit
from worker.db.models import RuleSetVersion


class UnknownVersion(InputError):
    """No such profile or version."""


def validate(text: str, *, source: str = "<rule set>") -> RuleSet:
    """The rule set ``text`` describes; raises RuleSetError naming the line and key."""
    return parse_rule_set(text, source=source)


def head(session: Session, profile: str) -> int | None:
    """The live (highest) version number of ``profile``, None when it has none."""
    return session.scalar(select(func.max(RuleSetVersion.version)).where(RuleSetVersion.profile == profile))


def heads(session: Session) -> dict[str, int]:
    """Every profile's live version number."""
    query = select(RuleSetVersion.profile, func.max(RuleSetVersion.version)).group_by(RuleSetVersion.profile)
    return {profile: int(version) for profile, version in session.execute(query)}


def published_from_file(session: Session, profile: str, digest: str) -> bool:
    """Whether a rule set with ``digest`` was ever published for ``profile`` from its rules file."""
    query = select(RuleSetVersion.id).where(
        RuleSetVersion.profile == profile,
        RuleSetVersion.digest == digest,
        RuleSetVersion.author.in_(("bootstrap", "file")),
    )
    return session.scalars(query.limit(1)).first() is not None


def get_version(session: Session, profile: str, version: int | None = None) -> RuleSetVersion:
    """Version ``version`` of ``profile`` (the live one when None); raises UnknownVersion."""
    number = head(session, profile) if version is None else version
    row = None
    if number is not None:
        row = session.scalars(
            select(RuleSetVersion).where(RuleSetVersion.profile == profile, RuleSetVersion.version == number)
        ).first()
    if row is None:
        what = "has no published rule set" if version is None else f"has no version {version}"
        raise UnknownVersion(f"profile {profile!r} {what}")
    return row


def history(session: Session, profile: str) -> list[RuleSetVersion]:
    """Every version of ``profile``, newest first."""
    query = select(RuleSetVersion).where(RuleSetVersion.profile == profile)
    return list(session.scalars(query.order_by(RuleSetVersion.version.desc())))


def publish(
    session: Session,
    profile: str,
    text: str,
    *,
    author: str,
    message: str = "",
    action: str = "rules.publish",
) -> RuleSetVersion:
    """Validate ``text`` and record it as the next version of ``profile`` (live once committed).

    Two publishers racing for the same number: the unique (profile, version) constraint makes the
    later commit fail, and nothing half-published is ever live.
    """
    if not profile.strip() or len(profile) > 255:
        raise InputError("a profile needs a name of 1 to 255 characters")
    if not author.strip():
        raise InputError("publishing a rule set needs the author's name")
    rule_set = validate(text, source=f"{profile} (new version)")
    previous = head(session, profile)
    row = RuleSetVersion(
        profile=profile,
        version=(previous or 0) + 1,
        name=rule_set.name,
        digest=rule_set.digest,
        yaml=text,
        author=author[:255],
        message=message[:4000],
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor=author[:255],
        action=action,
        subject=f"profile:{profile}",
        before={"version": previous},
        after={"version": row.version, "name": rule_set.name, "message": message[:500]},
    )
    return row


def rollback(session: Session, profile: str, version: int, *, author: str) -> RuleSetVersion:
    """Make version ``version``'s YAML live again, as a new version that says so."""
    old = get_version(session, profile, version)
    return publish(
        session,
        profile,
        old.yaml,
        author=author,
        message=f"rollback to version {version}",
        action="rules.rollback",
    )
