"""Whether a database is already at the migrations' head, answered without importing Alembic.

``mailroute poll`` (and ``db upgrade``) migrate at start; on a current database that was Alembic's
import and script scan, a large share of a poller's start-up. :func:`at_head` reads each migration
file's ``revision``/``down_revision`` and the ``alembic_version`` row; anything it cannot read plainly
(a merge revision, an unexpected file, no version table, any error) answers False, and the caller
runs Alembic as before.
"""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import text

from worker.db.session import get_engine

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"
_REVISION = re.compile(r"""^revision(?:: *[^=]+)? *= *["']([^"']+)["']\s*$""", re.M)
_DOWN = re.compile(r"""^down_revision(?:: *[^=]+)? *= *(?:["']([^"']+)["']|None)\s*$""", re.M)


def script_heads(versions: Path = MIGRATIONS / "versions") -> set[str] | None:
    """The head revisions of the migration files, or None when one of them is not plainly readable."""
    revisions: set[str] = set()
    downs: set[str] = set()
    for path in versions.glob("*.py"):
        source = path.read_text(encoding="utf-8")
        revision, down = _REVISION.findall(source), _DOWN.findall(source)
        if len(revision) != 1 or len(down) != 1:
            return None
        revisions.add(revision[0])
        if down[0]:
            downs.add(down[0])
    heads = revisions - downs
    return heads if revisions and downs <= revisions else None


def at_head(url: str | None = None) -> bool:
    """True only when the database's recorded revisions are exactly the migrations' heads."""
    heads = script_heads()
    if not heads:
        return False
    try:
        with get_engine(url).connect() as connection:
            current = {row[0] for row in connection.execute(text("SELECT version_num FROM alembic_version"))}
    except Exception:  # no version table yet, or anything unexpected: let Alembic decide
        return False
    return current == heads
