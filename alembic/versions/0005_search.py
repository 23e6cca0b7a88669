"""Full-text search over act titles and hit snippets; an index for a département's newest hits.

SQLite: an FTS5 table ``hits_fts`` (rowid = hits.id; case and accent folding by the unicode61
tokenizer). PostgreSQL: a ``hits.search_vector`` tsvector with a GIN index, under a French text
search configuration ``attrap_french`` that also folds accents when ``unaccent`` can be installed.
Triggers on ``hits`` and ``acts`` keep both in step with the rows they index. None of these objects
is in the models (``store.models.described_by_models`` hides them from autogenerate).

Caution for later migrations: a SQLite batch migration recreates its table and so drops that
table's triggers; one that touches ``hits`` or ``acts`` must create these triggers again.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SQLITE_INDEX_HIT = """
    INSERT INTO hits_fts(rowid, title, snippet)
    SELECT NEW.id, acts.title, NEW.snippet FROM acts WHERE acts.id = NEW.act_id;
"""

SQLITE_UPGRADE = [
    "CREATE VIRTUAL TABLE hits_fts USING fts5(title, snippet, "
    "tokenize = 'unicode61 remove_diacritics 2')",
    """INSERT INTO hits_fts(rowid, title, snippet)
       SELECT hits.id, acts.title, hits.snippet FROM hits JOIN acts ON acts.id = hits.act_id""",
    f"CREATE TRIGGER hits_fts_insert AFTER INSERT ON hits BEGIN {SQLITE_INDEX_HIT} END",
    "CREATE TRIGGER hits_fts_delete AFTER DELETE ON hits BEGIN "
    "DELETE FROM hits_fts WHERE rowid = OLD.id; END",
    "CREATE TRIGGER hits_fts_update AFTER UPDATE OF snippet, act_id ON hits BEGIN "
    f"DELETE FROM hits_fts WHERE rowid = OLD.id; {SQLITE_INDEX_HIT} END",
    """CREATE TRIGGER acts_fts_update AFTER UPDATE OF title ON acts BEGIN
       UPDATE hits_fts SET title = NEW.title
       WHERE rowid IN (SELECT id FROM hits WHERE act_id = NEW.id); END""",
]

SQLITE_DOWNGRADE = [
    "DROP TRIGGER IF EXISTS acts_fts_update",
    "DROP TRIGGER IF EXISTS hits_fts_update",
    "DROP TRIGGER IF EXISTS hits_fts_delete",
    "DROP TRIGGER IF EXISTS hits_fts_insert",
    "DROP TABLE IF EXISTS hits_fts",
]

POSTGRESQL_UPGRADE = [
    # unaccent is a trusted extension, but a server may not ship it: search then keeps accents.
    """DO $$ BEGIN
         CREATE EXTENSION IF NOT EXISTS unaccent;
       EXCEPTION WHEN others THEN
         RAISE NOTICE 'unaccent unavailable (%): search will not fold accents', SQLERRM;
       END $$""",
    "CREATE TEXT SEARCH CONFIGURATION attrap_french (COPY = pg_catalog.french)",
    """DO $$ BEGIN
         IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'unaccent') THEN
           ALTER TEXT SEARCH CONFIGURATION attrap_french
             ALTER MAPPING FOR hword, hword_part, word WITH unaccent, french_stem;
         END IF;
       END $$""",
    "ALTER TABLE hits ADD COLUMN search_vector tsvector",
    """CREATE FUNCTION attrap_hit_search_vector() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         NEW.search_vector := to_tsvector('attrap_french',
           coalesce((SELECT title FROM acts WHERE id = NEW.act_id), '') || ' '
           || coalesce(NEW.snippet, ''));
         RETURN NEW;
       END $$""",
    """CREATE TRIGGER hits_search_vector BEFORE INSERT OR UPDATE OF snippet, act_id ON hits
       FOR EACH ROW EXECUTE FUNCTION attrap_hit_search_vector()""",
    """CREATE FUNCTION attrap_act_search_vector() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         UPDATE hits SET search_vector = to_tsvector('attrap_french',
           coalesce(NEW.title, '') || ' ' || coalesce(snippet, ''))
         WHERE act_id = NEW.id;
         RETURN NULL;
       END $$""",
    """CREATE TRIGGER acts_search_vector AFTER UPDATE OF title ON acts
       FOR EACH ROW EXECUTE FUNCTION attrap_act_search_vector()""",
    "UPDATE hits SET snippet = snippet",  # fills search_vector of existing rows via the trigger
    "CREATE INDEX ix_hits_search_vector ON hits USING gin (search_vector)",
]

POSTGRESQL_DOWNGRADE = [
    "DROP TRIGGER IF EXISTS acts_search_vector ON acts",
    "DROP FUNCTION IF EXISTS attrap_act_search_vector()",
    "DROP TRIGGER IF EXISTS hits_search_vector ON hits",
    "DROP FUNCTION IF EXISTS attrap_hit_search_vector()",
    "ALTER TABLE hits DROP COLUMN IF EXISTS search_vector",
    "DROP TEXT SEARCH CONFIGURATION IF EXISTS attrap_french",
]


def _run(statements: dict[str, list[str]]) -> None:
    for statement in statements.get(op.get_bind().dialect.name, []):
        op.execute(statement)


def upgrade() -> None:
    op.create_index("ix_hits_document_id_first_seen_at", "hits", ["document_id", "first_seen_at"])
    _run({"sqlite": SQLITE_UPGRADE, "postgresql": POSTGRESQL_UPGRADE})


def downgrade() -> None:
    _run({"sqlite": SQLITE_DOWNGRADE, "postgresql": POSTGRESQL_DOWNGRADE})
    op.drop_index("ix_hits_document_id_first_seen_at", table_name="hits")
