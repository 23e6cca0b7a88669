"""hits.department: the département a hit is filed under, copied from its administration

Revision ID: 0008
Revises: 0006
Create Date: 2026-11-29 17:47:14.473967

Plain ALTER TABLE rather than a batch migration: on SQLite a batch would recreate ``hits`` and
drop the full-text triggers of 0005.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("hits", sa.Column("department", sa.String(length=4), nullable=True))
    op.execute(
        "UPDATE hits SET department = ("
        " SELECT administrations.department FROM documents"
        " JOIN administrations ON administrations.code = documents.administration_code"
        " WHERE documents.id = hits.document_id)"
    )
    op.create_index(
        op.f("ix_hits_department_first_seen_at"), "hits", ["department", "first_seen_at"]
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_hits_department_first_seen_at"), table_name="hits")
    op.drop_column("hits", "department")
