"""human annotation

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 11:27:10.343432
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "annotation_assignments",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("session_id", sa.String(length=32), nullable=False),
        sa.Column("annotator", sa.String(length=64), nullable=False),
        sa.Column("guideline_version", sa.String(length=32), nullable=False),
        sa.Column("assigned_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["sessions.id"],
            name=op.f("fk_annotation_assignments_session_id_sessions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_annotation_assignments")),
        sa.UniqueConstraint(
            "session_id", "annotator", name=op.f("uq_annotation_assignments_session_id_annotator")
        ),
    )
    op.create_table(
        "annotations",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("session_id", sa.String(length=32), nullable=False),
        sa.Column("annotator", sa.String(length=64), nullable=False),
        sa.Column("label", sa.String(length=32), nullable=False),
        sa.Column("guideline_version", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["session_id"], ["sessions.id"], name=op.f("fk_annotations_session_id_sessions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_annotations")),
        sa.UniqueConstraint(
            "session_id", "annotator", name=op.f("uq_annotations_session_id_annotator")
        ),
    )


def downgrade() -> None:
    op.drop_table("annotations")
    op.drop_table("annotation_assignments")
