"""wider evaluator and analyzer versions

An evaluator's version names every analyzer's version and the threshold; 32 characters
were too few.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("labels") as batch:
        batch.alter_column(
            "evaluator_version",
            type_=sa.String(160),
            existing_type=sa.String(32),
            existing_nullable=False,
        )
    with op.batch_alter_table("findings") as batch:
        batch.alter_column(
            "analyzer_version",
            type_=sa.String(160),
            existing_type=sa.String(32),
            existing_nullable=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("findings") as batch:
        batch.alter_column(
            "analyzer_version",
            type_=sa.String(32),
            existing_type=sa.String(160),
            existing_nullable=False,
        )
    with op.batch_alter_table("labels") as batch:
        batch.alter_column(
            "evaluator_version",
            type_=sa.String(32),
            existing_type=sa.String(160),
            existing_nullable=False,
        )
