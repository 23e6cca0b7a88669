"""Alembic environment: runs on the connection handed over by attrap, or on the URL in the
config (``alembic -x url=…``, ``$ATTRAP_DATABASE_URL``, else attrap's own settings)."""

from __future__ import annotations

import os

from alembic import context
from sqlalchemy import Connection

from attrap.store.models import Base, described_by_models

config = context.config
target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        include_object=described_by_models,
    )
    with context.begin_transaction():
        context.run_migrations()


def _url() -> str:
    url = context.get_x_argument(as_dictionary=True).get("url") or os.environ.get(
        "ATTRAP_DATABASE_URL"
    )
    if url:
        return url
    configured = config.get_main_option("sqlalchemy.url")
    if configured:
        return configured
    from attrap.config import load_settings

    return load_settings().database.url


connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    from attrap.store.db import make_engine

    with make_engine(_url()).connect() as own_connection:
        _run(own_connection)
        own_connection.commit()
