"""messages.subject_key: the normalised subject, counted for boilerplate subjects in SQL

Revision ID: 0005_subject_key
Revises: 0004_learning

Nullable and not back-filled: rows decided before it are counted by their subject, normalised in
Python (worker.store.boilerplate.stored_counts), until they leave the look-back window.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_subject_key"
down_revision: str | None = "0004_learning"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("messages", sa.Column("subject_key", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("messages", "subject_key")
