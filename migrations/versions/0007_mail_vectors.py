"""mail_vectors: the memory of recent traffic that a learned model pools with

Revision ID: 0007_mail_vectors
Revises: 0006_redundant_indexes

One row per mail decided with a vector: its CPU-model embedding (float16) and the probabilities it
was decided with (float32), keyed by the message (``ON DELETE CASCADE``: retention of messages
removes them). ``ix_mail_vectors_rule_set_message`` serves the memory's read, the newest rows of a
rule set. A new table: nothing is rewritten, workers of the previous release do not use it.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_mail_vectors"
down_revision: str | None = "0006_redundant_indexes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "mail_vectors",
        sa.Column("message_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("rule_set_name", sa.String(length=255), nullable=False),
        sa.Column("columns", sa.String(length=16), nullable=False),
        sa.Column("vector", sa.LargeBinary(), nullable=False),
        sa.Column("probs", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["message_id"], ["messages.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("message_id"),
    )
    op.create_index("ix_mail_vectors_rule_set_message", "mail_vectors", ["rule_set_name", "message_id"])


def downgrade() -> None:
    op.drop_index("ix_mail_vectors_rule_set_message", table_name="mail_vectors")
    op.drop_table("mail_vectors")
