"""The tables of the catalog and of the conversations, in SQLite (created if missing, columns added since
listed per table) and in PostgreSQL (versioned migrations, applied in order once; never edit one that
has shipped, add the next)."""

from __future__ import annotations

SQLITE_CATALOG = """
CREATE TABLE IF NOT EXISTS collections(
    name TEXT PRIMARY KEY, key TEXT UNIQUE NOT NULL, embedder TEXT NOT NULL, dimension INTEGER NOT NULL,
    created REAL NOT NULL, vectors TEXT NOT NULL DEFAULT '', rebuilding TEXT NOT NULL DEFAULT '',
    changes INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS documents(
    id INTEGER PRIMARY KEY, collection TEXT NOT NULL, doc_id TEXT NOT NULL, source TEXT NOT NULL,
    relpath TEXT NOT NULL, title TEXT NOT NULL DEFAULT '', file_type TEXT NOT NULL DEFAULT '',
    version TEXT, content_hash TEXT, fingerprint TEXT NOT NULL DEFAULT '', size INTEGER,
    mtime REAL, chunk_count INTEGER NOT NULL DEFAULT 0, summary TEXT NOT NULL DEFAULT '',
    summary_strategy TEXT NOT NULL DEFAULT '', metadata TEXT NOT NULL DEFAULT '{}', error TEXT,
    ingested REAL, UNIQUE(collection, doc_id));
CREATE INDEX IF NOT EXISTS documents_source ON documents(collection, source);
CREATE TABLE IF NOT EXISTS chunks(
    rowid INTEGER PRIMARY KEY, id TEXT UNIQUE NOT NULL, collection TEXT NOT NULL, doc_id TEXT NOT NULL,
    version TEXT NOT NULL, idx INTEGER NOT NULL, text TEXT NOT NULL, page INTEGER, section TEXT NOT NULL,
    start INTEGER NOT NULL, end INTEGER NOT NULL, hash TEXT NOT NULL, tokens INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS chunks_doc ON chunks(collection, doc_id, version);
CREATE TABLE IF NOT EXISTS meta(name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS intents(
    collection TEXT NOT NULL, doc_id TEXT NOT NULL, version TEXT NOT NULL, created REAL NOT NULL,
    PRIMARY KEY(collection, doc_id, version));
"""
SQLITE_ADDED_COLUMNS = {
    "collections": {
        "vectors": "TEXT NOT NULL DEFAULT ''",
        "rebuilding": "TEXT NOT NULL DEFAULT ''",
        "changes": "INTEGER NOT NULL DEFAULT 0",
    }
}

CATALOG_MIGRATIONS = [
    """
CREATE TABLE meta(name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE collections(
    name TEXT PRIMARY KEY, key TEXT UNIQUE NOT NULL, embedder TEXT NOT NULL, dimension INTEGER NOT NULL,
    created DOUBLE PRECISION NOT NULL, vectors TEXT NOT NULL DEFAULT '', rebuilding TEXT NOT NULL DEFAULT '',
    changes BIGINT NOT NULL DEFAULT 0);
CREATE TABLE documents(
    id BIGSERIAL PRIMARY KEY, collection TEXT NOT NULL, doc_id TEXT NOT NULL, source TEXT NOT NULL,
    relpath TEXT NOT NULL, title TEXT NOT NULL DEFAULT '', file_type TEXT NOT NULL DEFAULT '',
    version TEXT, content_hash TEXT, fingerprint TEXT NOT NULL DEFAULT '', size BIGINT,
    mtime DOUBLE PRECISION, chunk_count INTEGER NOT NULL DEFAULT 0, summary TEXT NOT NULL DEFAULT '',
    summary_strategy TEXT NOT NULL DEFAULT '', metadata TEXT NOT NULL DEFAULT '{}', error TEXT,
    ingested DOUBLE PRECISION, UNIQUE(collection, doc_id));
CREATE INDEX documents_source ON documents(collection, source);
CREATE TABLE chunks(
    rowid BIGSERIAL PRIMARY KEY, id TEXT UNIQUE NOT NULL, collection TEXT NOT NULL, doc_id TEXT NOT NULL,
    version TEXT NOT NULL, idx INTEGER NOT NULL, text TEXT NOT NULL, page INTEGER, section TEXT NOT NULL,
    start INTEGER NOT NULL, "end" INTEGER NOT NULL, hash TEXT NOT NULL, tokens INTEGER NOT NULL);
CREATE INDEX chunks_doc ON chunks(collection, doc_id, version);
CREATE TABLE intents(
    collection TEXT NOT NULL, doc_id TEXT NOT NULL, version TEXT NOT NULL, created DOUBLE PRECISION NOT NULL,
    PRIMARY KEY(collection, doc_id, version));
CREATE TABLE chunk_lengths(
    chunk BIGINT PRIMARY KEY REFERENCES chunks(rowid) ON DELETE CASCADE, collection TEXT NOT NULL,
    length INTEGER NOT NULL);
CREATE INDEX chunk_lengths_collection ON chunk_lengths(collection);
CREATE TABLE chunk_terms(
    collection TEXT NOT NULL, chunk BIGINT NOT NULL REFERENCES chunks(rowid) ON DELETE CASCADE,
    term TEXT NOT NULL, tf INTEGER NOT NULL, PRIMARY KEY(chunk, term));
CREATE INDEX chunk_terms_term ON chunk_terms(collection, term);
CREATE TABLE summary_lengths(
    document BIGINT PRIMARY KEY REFERENCES documents(id) ON DELETE CASCADE, collection TEXT NOT NULL,
    length INTEGER NOT NULL);
CREATE INDEX summary_lengths_collection ON summary_lengths(collection);
CREATE TABLE summary_terms(
    collection TEXT NOT NULL, document BIGINT NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    term TEXT NOT NULL, tf INTEGER NOT NULL, PRIMARY KEY(document, term));
CREATE INDEX summary_terms_term ON summary_terms(collection, term);
""",
    # 2: each posting carries its row's length, and the term index covers what BM25 reads, so a search
    # is an index-only scan with no join (3x faster at 100k chunks)
    """
ALTER TABLE chunk_terms ADD COLUMN length INTEGER NOT NULL DEFAULT 0;
UPDATE chunk_terms p SET length = l.length FROM chunk_lengths l WHERE l.chunk = p.chunk;
DROP INDEX chunk_terms_term;
CREATE INDEX chunk_terms_term ON chunk_terms(collection, term) INCLUDE (chunk, tf, length);
ALTER TABLE summary_terms ADD COLUMN length INTEGER NOT NULL DEFAULT 0;
UPDATE summary_terms p SET length = l.length FROM summary_lengths l WHERE l.document = p.document;
DROP INDEX summary_terms_term;
CREATE INDEX summary_terms_term ON summary_terms(collection, term) INCLUDE (document, tf, length);
""",
]

SQLITE_CONVERSATIONS = """
CREATE TABLE IF NOT EXISTS conversations(
    id TEXT PRIMARY KEY, title TEXT NOT NULL, collection TEXT NOT NULL, created REAL NOT NULL,
    updated REAL NOT NULL);
CREATE TABLE IF NOT EXISTS messages(
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    conversation_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    role TEXT NOT NULL, content TEXT NOT NULL, created REAL NOT NULL, refused INTEGER NOT NULL DEFAULT 0,
    citations TEXT NOT NULL DEFAULT '[]', extra TEXT NOT NULL DEFAULT '{}');
CREATE INDEX IF NOT EXISTS messages_conversation ON messages(conversation_id, id);
"""

CONVERSATION_MIGRATIONS = [
    """
CREATE TABLE conversations(
    id TEXT PRIMARY KEY, title TEXT NOT NULL, collection TEXT NOT NULL, created DOUBLE PRECISION NOT NULL,
    updated DOUBLE PRECISION NOT NULL);
CREATE TABLE messages(
    id BIGSERIAL PRIMARY KEY,
    conversation_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    role TEXT NOT NULL, content TEXT NOT NULL, created DOUBLE PRECISION NOT NULL,
    refused INTEGER NOT NULL DEFAULT 0, citations TEXT NOT NULL DEFAULT '[]',
    extra TEXT NOT NULL DEFAULT '{}');
CREATE INDEX messages_conversation ON messages(conversation_id, id);
""",
]

SQLITE_JOBS = """
CREATE TABLE IF NOT EXISTS jobs(id TEXT PRIMARY KEY, collection TEXT NOT NULL, data TEXT NOT NULL,
    updated REAL NOT NULL);
"""

JOB_MIGRATIONS = [
    """
CREATE TABLE jobs(id TEXT PRIMARY KEY, collection TEXT NOT NULL, data TEXT NOT NULL,
    updated DOUBLE PRECISION NOT NULL);
""",
]
