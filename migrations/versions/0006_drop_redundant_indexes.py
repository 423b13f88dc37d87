"""Drop three indexes that a unique constraint already provides (write amplification)

Revision ID: 0006_redundant_indexes
Revises: 0005_subject_key

``scores(message_id)``, ``decisions(message_id)`` and ``actions(message_id)`` each duplicate the
leading column of a unique constraint on the same table (``uq_scores_pair``,
``uq_decisions_message_mode``, ``uq_actions_effect``), which serves every lookup by ``message_id``
and the ``ON DELETE CASCADE`` from ``messages``. Each one cost an index entry per row written: five
per mail for the scores alone, and one per outbox status change (an indexed ``status`` makes those
updates non-HOT, so every index of ``actions`` gets a new entry).

No code names these indexes, so workers of the previous release run unchanged against this schema.
Dropping an index rewrites nothing; it holds the table's lock only for the catalogue change.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006_redundant_indexes"
down_revision: str | None = "0005_subject_key"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = (
    ("ix_scores_message_id", "scores"),
    ("ix_decisions_message_id", "decisions"),
    ("ix_actions_message_id", "actions"),
)


def upgrade() -> None:
    for name, table in INDEXES:
        op.drop_index(name, table_name=table)


def downgrade() -> None:
    for name, table in INDEXES:
        op.create_index(name, table, ["message_id"])
