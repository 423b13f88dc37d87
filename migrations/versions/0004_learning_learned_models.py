"""learned models per rule set; decisions record the learned version

Revision ID: 0004_learning
Revises: 0003_profiles
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_learning"
down_revision: str | None = "0003_profiles"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "learned_models",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("rule_set_name", sa.String(length=255), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("review_version", sa.String(length=64), nullable=False),
        sa.Column("n_examples", sa.Integer(), nullable=False),
        sa.Column("cv_accuracy", sa.Float(), nullable=True),
        sa.Column("ece", sa.Float(), nullable=True),
        sa.Column("blob", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("rule_set_name", "version", name="uq_learned_models_version"),
    )
    with op.batch_alter_table("learned_models", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_learned_models_rule_set_name"), ["rule_set_name"], unique=False)
    with op.batch_alter_table("decisions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("learned_version", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("decisions", schema=None) as batch_op:
        batch_op.drop_column("learned_version")
    with op.batch_alter_table("learned_models", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_learned_models_rule_set_name"))
    op.drop_table("learned_models")
