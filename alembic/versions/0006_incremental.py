"""incremental crawls: the page each document was found on, the period each crawl covered

Revision ID: 0006
Revises: 0005
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("crawl_runs", sa.Column("not_before", sa.Date(), nullable=True))
    op.add_column("documents", sa.Column("source_url", sa.String(length=2048), nullable=True))


def downgrade() -> None:
    # Plain ALTER TABLE (SQLite >= 3.35): a batch "move and copy" of documents would drop the
    # table, and with foreign keys on, cascade-delete its pages, acts and hits.
    op.drop_column("documents", "source_url")
    op.drop_column("crawl_runs", "not_before")
