"""act_facts and act_periods: what an order authorises (periods, places, operator, cameras …)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 21:13:50

New tables only: acts already stored get their facts from ``attrap reprocess --all``.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import attrap.store.models

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _utc(name: str, *, nullable: bool) -> sa.Column[object]:
    return sa.Column(name, attrap.store.models.UTCDateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "act_facts",
        sa.Column("act_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.String(length=16), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        _utc("first_start", nullable=True),
        _utc("last_end", nullable=True),
        _utc("published_at", nullable=True),
        sa.Column("publication_basis", sa.String(length=16), nullable=True),
        sa.Column("lead_seconds", sa.Integer(), nullable=True),
        sa.Column("late", sa.Boolean(), nullable=True),
        sa.ForeignKeyConstraint(
            ["act_id"], ["acts.id"], name=op.f("fk_act_facts_act_id_acts"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("act_id", name=op.f("pk_act_facts")),
    )
    op.create_index(op.f("ix_act_facts_first_start"), "act_facts", ["first_start"])
    op.create_index(op.f("ix_act_facts_late"), "act_facts", ["late"])
    op.create_table(
        "act_periods",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("act_id", sa.Integer(), nullable=False),
        _utc("starts_at", nullable=False),
        _utc("ends_at", nullable=True),
        sa.Column("first_day", sa.Date(), nullable=False),
        sa.Column("last_day", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["act_id"], ["acts.id"], name=op.f("fk_act_periods_act_id_acts"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_act_periods")),
    )
    op.create_index(op.f("ix_act_periods_act_id"), "act_periods", ["act_id"])
    op.create_index(
        op.f("ix_act_periods_last_day_first_day"), "act_periods", ["last_day", "first_day"]
    )


def downgrade() -> None:
    op.drop_table("act_periods")
    op.drop_table("act_facts")
