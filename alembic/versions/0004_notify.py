"""notify outbox: dispatcher leases and digest grouping

Revision ID: 0004
Revises: 0002
Create Date: 2026-11-29 16:47:52.471089
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import attrap.store.models

revision: str = "0004"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.add_column(sa.Column("claimed_by", sa.String(length=64), nullable=True))
        batch_op.add_column(
            sa.Column(
                "claimed_until", attrap.store.models.UTCDateTime(timezone=True), nullable=True
            )
        )
        batch_op.add_column(sa.Column("digest_key", sa.String(length=64), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_notifications_digest_key"), ["digest_key"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_notifications_digest_key"))
        batch_op.drop_column("digest_key")
        batch_op.drop_column("claimed_until")
        batch_op.drop_column("claimed_by")
