"""crawl: download attempts and duplicates

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29 16:48:26.558234
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("fetch_attempts", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(sa.Column("duplicate_of_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_documents_duplicate_of_id_documents"),
            "documents",
            ["duplicate_of_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_documents_duplicate_of_id_documents"), type_="foreignkey"
        )
        batch_op.drop_column("duplicate_of_id")
        batch_op.drop_column("fetch_attempts")
