"""health: processing attempts, crawl listing and start page, incidents and alerts

Plain ALTER TABLE for the new columns: a batch "move and copy" of documents would drop the table
and, with foreign keys on, cascade-delete its pages, acts and hits.

Revision ID: 0011
Revises: 0008
Create Date: 2026-12-02 19:32:30.244188
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import attrap.store.models

revision: str = "0011"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "health_incidents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("administration_code", sa.String(length=8), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("opened_at", attrap.store.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", attrap.store.models.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["administration_code"],
            ["administrations.code"],
            name=op.f("fk_health_incidents_administration_code_administrations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_health_incidents")),
    )
    op.create_index(
        op.f("ix_health_incidents_administration_code_resolved_at"),
        "health_incidents",
        ["administration_code", "resolved_at"],
    )
    op.create_table(
        "health_alerts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("event", sa.String(length=16), nullable=False),
        sa.Column("channel", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", attrap.store.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("remote_id", sa.String(length=256), nullable=True),
        sa.Column("sent_at", attrap.store.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", attrap.store.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["health_incidents.id"],
            name=op.f("fk_health_alerts_incident_id_health_incidents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_health_alerts")),
        sa.UniqueConstraint(
            "incident_id",
            "event",
            "channel",
            name=op.f("uq_health_alerts_incident_id_event_channel"),
        ),
    )
    op.create_index(
        op.f("ix_health_alerts_status_next_attempt_at"),
        "health_alerts",
        ["status", "next_attempt_at"],
    )
    op.add_column("crawl_runs", sa.Column("listed", sa.Integer(), nullable=True))
    op.add_column("crawl_runs", sa.Column("start_status", sa.Integer(), nullable=True))
    op.add_column("crawl_runs", sa.Column("start_redirect", sa.String(length=2048), nullable=True))
    op.add_column(
        "documents",
        sa.Column("process_attempts", sa.Integer(), server_default="0", nullable=False),
    )


def downgrade() -> None:
    # Plain ALTER TABLE DROP COLUMN (SQLite >= 3.35), for the reason above.
    op.drop_column("documents", "process_attempts")
    op.drop_column("crawl_runs", "start_redirect")
    op.drop_column("crawl_runs", "start_status")
    op.drop_column("crawl_runs", "listed")
    op.drop_index(op.f("ix_health_alerts_status_next_attempt_at"), table_name="health_alerts")
    op.drop_table("health_alerts")
    op.drop_index(
        op.f("ix_health_incidents_administration_code_resolved_at"), table_name="health_incidents"
    )
    op.drop_table("health_incidents")
