"""documents.status limited to the known statuses

PostgreSQL gets a CHECK constraint. SQLite cannot add one to an existing table without a batch
"move and copy", which would drop documents and, with foreign keys on, cascade-delete its pages,
acts and hits (see 0011): two triggers refuse the same values instead.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03 06:40:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Written out, not imported: a migration keeps meaning what it meant when it was written.
STATUS_CHECK = "status IN ('discovered', 'fetched', 'extracted', 'matched', 'failed', 'duplicate')"


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for event in ("INSERT", "UPDATE OF status"):
            name = "ck_documents_status_" + event.split()[0].lower()
            op.execute(
                f"CREATE TRIGGER {name} BEFORE {event} ON documents "
                f"WHEN NOT (NEW.{STATUS_CHECK}) "
                "BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: ck_documents_status'); END"
            )
    else:
        op.create_check_constraint(op.f("ck_documents_status"), "documents", STATUS_CHECK)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER ck_documents_status_insert")
        op.execute("DROP TRIGGER ck_documents_status_update")
    else:
        op.drop_constraint(op.f("ck_documents_status"), "documents", type_="check")
