"""What the two backends spell alike but SQLAlchemy types apart."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


def dialect_insert(session: Session, table: Any) -> Any:
    """``INSERT`` for the session's backend, with its ``ON CONFLICT`` clauses (a module light
    enough for the adapter registry, which ``attrap adapters`` imports)."""
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    return insert(table)
