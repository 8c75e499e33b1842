"""The catalog: one SQLite file holding the source of truth for what is live in every collection.

It keeps the manifest (one row per document: path, content hash, counts, status), the chunk rows, the
lexical BM25 index (FTS5, one table per collection), and write intents. Chroma holds the vectors; a
Chroma record is visible to queries only when its (doc_id, version) is the live version here, so a
document flips from old to new content in one SQLite transaction and no reader sees both or neither.
"""

from __future__ import annotations

import sqlite3
import time
import uuid
from collections.abc import Iterable, Sequence
from pathlib import Path

from rag_core.errors import NotFoundError
from rag_core.tokens import lexical_tokens
from rag_core.types import Chunk
from vectorstore.records import (
    CHUNK_COLUMNS,
    CollectionInfo,
    DocumentRow,
    DocumentWrite,
    document_row,
    document_values,
    from_stored,
    stored_fields,
)
from vectorstore.sqlite_file import SqliteFile

SCHEMA = """
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

FTS_COLUMNS = "tokens, tokenize='porter unicode61 remove_diacritics 2'"
_UPSERT_DOCUMENT = (
    "INSERT INTO documents({columns}) VALUES ({marks}) "
    "ON CONFLICT(collection, doc_id) DO UPDATE SET {updates}"
)
LIVE_JOIN = (
    "JOIN documents d ON d.collection = c.collection AND d.doc_id = c.doc_id AND d.version = c.version"
)


_INFO = "name, key, embedder, dimension, created, vectors, rebuilding"
_ADDED_COLUMNS = {
    "vectors": "TEXT NOT NULL DEFAULT ''",
    "rebuilding": "TEXT NOT NULL DEFAULT ''",
    "changes": "INTEGER NOT NULL DEFAULT 0",
}
CHUNK_SELECT = f"SELECT c.*, d.source, d.title, d.file_type FROM chunks c {LIVE_JOIN}"
"""Live chunk rows with their document's fields; add a WHERE clause."""


def chunk_from_row(collection: str, r: sqlite3.Row) -> Chunk:
    return from_stored(Chunk, collection, r["id"], r["text"], dict(r))


class Catalog(SqliteFile):
    """Thread-safe access to the catalog file. Each thread gets its own connection (WAL mode)."""

    def __init__(self, path: Path) -> None:
        super().__init__(path, SCHEMA, {"collections": _ADDED_COLUMNS})
        with self.transaction() as con:
            con.execute("INSERT OR IGNORE INTO meta VALUES ('instance', ?)", (uuid.uuid4().hex,))
        self.instance: str = (
            self.connection().execute("SELECT value FROM meta WHERE name='instance'").fetchone()[0]
        )

    # collections -----------------------------------------------------------------------------------

    def collection(self, name: str) -> CollectionInfo | None:
        row = self.connection().execute(f"SELECT {_INFO} FROM collections WHERE name=?", (name,)).fetchone()
        return CollectionInfo(**dict(row)) if row else None

    def collections(self) -> list[CollectionInfo]:
        rows = self.connection().execute(f"SELECT {_INFO} FROM collections ORDER BY name").fetchall()
        return [CollectionInfo(**dict(r)) for r in rows]

    def add_collection(self, info: CollectionInfo) -> None:
        with self.transaction() as con:
            con.execute(
                "INSERT OR IGNORE INTO collections(name, key, embedder, dimension, created) "
                "VALUES (?,?,?,?,?)",
                (info.name, info.key, info.embedder, info.dimension, info.created),
            )
            for table in (f"lex_{info.key}", f"lexsum_{info.key}"):
                con.execute(f"CREATE VIRTUAL TABLE IF NOT EXISTS {table} USING fts5({FTS_COLUMNS})")

    def drop_collection(self, info: CollectionInfo) -> None:
        with self.transaction() as con:
            con.execute("DELETE FROM collections WHERE name=?", (info.name,))
            for table in ("documents", "chunks", "intents"):
                con.execute(f"DELETE FROM {table} WHERE collection=?", (info.name,))
            con.execute(f"DROP TABLE IF EXISTS lex_{info.key}")
            con.execute(f"DROP TABLE IF EXISTS lexsum_{info.key}")

    def start_rebuild(self, info: CollectionInfo, key: str) -> CollectionInfo:
        """Record that the collection's vectors are being rebuilt under the Chroma key `key`."""
        with self.transaction() as con:
            con.execute("UPDATE collections SET rebuilding=? WHERE name=?", (key, info.name))
        return self._existing(info.name)

    def finish_rebuild(self, info: CollectionInfo, *, embedder: str, dimension: int) -> CollectionInfo:
        """Make the rebuilt vectors (`info.rebuilding`) the collection's, made by `embedder`."""
        with self.transaction() as con:
            con.execute(
                "UPDATE collections SET vectors=rebuilding, rebuilding='', embedder=?, dimension=? "
                "WHERE name=? AND rebuilding=?",
                (embedder, dimension, info.name, info.rebuilding),
            )
        return self._existing(info.name)

    def _existing(self, name: str) -> CollectionInfo:
        info = self.collection(name)
        if info is None:
            raise NotFoundError(
                f"collection {name!r} was deleted", hint="ingest into it again to recreate it"
            )
        return info

    # documents -------------------------------------------------------------------------------------

    def documents(self, collection: str) -> list[DocumentRow]:
        rows = (
            self.connection()
            .execute("SELECT * FROM documents WHERE collection=? ORDER BY relpath", (collection,))
            .fetchall()
        )
        return [document_row(dict(r)) for r in rows]

    def document(self, collection: str, doc_id: str) -> DocumentRow | None:
        row = (
            self.connection()
            .execute("SELECT * FROM documents WHERE collection=? AND doc_id=?", (collection, doc_id))
            .fetchone()
        )
        return document_row(dict(row)) if row else None

    def live_versions(self, collection: str, doc_ids: Iterable[str]) -> dict[str, str]:
        ids = list(dict.fromkeys(doc_ids))
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        rows = (
            self.connection()
            .execute(
                f"SELECT doc_id, version FROM documents WHERE collection=? AND version IS NOT NULL "
                f"AND doc_id IN ({marks})",
                (collection, *ids),
            )
            .fetchall()
        )
        return {r["doc_id"]: r["version"] for r in rows}

    def filtered_doc_ids(
        self,
        collection: str,
        *,
        source_prefix: str | None = None,
        file_types: Sequence[str] | None = None,
        modified_after: float | None = None,
        modified_before: float | None = None,
    ) -> list[str]:
        sql = "SELECT doc_id FROM documents WHERE collection=? AND version IS NOT NULL"
        args: list[object] = [collection]
        if source_prefix:
            sql += " AND (substr(source, 1, ?) = ? OR substr(relpath, 1, ?) = ?)"
            args += [len(source_prefix), source_prefix, len(source_prefix), source_prefix]
        if file_types:
            sql += f" AND file_type IN ({','.join('?' * len(file_types))})"
            args += [t.lower().lstrip(".") for t in file_types]
        if modified_after is not None:
            sql += " AND mtime >= ?"
            args.append(modified_after)
        if modified_before is not None:
            sql += " AND mtime <= ?"
            args.append(modified_before)
        return [r[0] for r in self.connection().execute(sql, args).fetchall()]

    def touch(self, collection: str, doc_id: str, *, size: int, mtime: float) -> None:
        with self.transaction() as con:
            con.execute(
                "UPDATE documents SET size=?, mtime=? WHERE collection=? AND doc_id=?",
                (size, mtime, collection, doc_id),
            )

    def record_failure(
        self, collection: str, *, doc_id: str, source: str, relpath: str, file_type: str, error: str
    ) -> None:
        """Note a failed attempt; a previously ingested version stays live."""
        with self.transaction() as con:
            con.execute(
                "INSERT INTO documents(collection, doc_id, source, relpath, file_type, error) "
                "VALUES (?,?,?,?,?,?) ON CONFLICT(collection, doc_id) DO UPDATE SET error=excluded.error",
                (collection, doc_id, source, relpath, file_type, error),
            )

    # the write protocol ----------------------------------------------------------------------------

    def add_intents(self, collection: str, pairs: Iterable[tuple[str, str]]) -> None:
        """Record (doc_id, version) pairs about to be written to Chroma, before writing them."""
        now = time.time()
        with self.transaction() as con:
            con.executemany(
                "INSERT OR IGNORE INTO intents VALUES (?,?,?,?)",
                [(collection, d, v, now) for d, v in pairs],
            )

    def intents(self, collection: str) -> list[tuple[str, str]]:
        rows = (
            self.connection()
            .execute("SELECT doc_id, version FROM intents WHERE collection=?", (collection,))
            .fetchall()
        )
        return [(r[0], r[1]) for r in rows]

    def clear_intents(self, collection: str, pairs: Iterable[tuple[str, str]]) -> None:
        with self.transaction() as con:
            con.executemany(
                "DELETE FROM intents WHERE collection=? AND doc_id=? AND version=?",
                [(collection, d, v) for d, v in pairs],
            )

    def publish(self, info: CollectionInfo, writes: Sequence[DocumentWrite]) -> list[tuple[str, str]]:
        """Make each written version live in one transaction. Returns the (doc_id, version) pairs that
        are no longer live; they stay recorded as intents until their Chroma records are deleted."""
        stale: list[tuple[str, str]] = []
        now = time.time()
        tokens = {
            w.doc_id: (
                " ".join(lexical_tokens(f"{w.title}\n{w.summary.text}")),
                [" ".join(lexical_tokens(f"{c.title}\n{c.section}\n{c.text}")) for c in w.chunks],
            )
            for w in writes
        }
        with self.transaction() as con:
            for w in writes:
                summary_tokens, chunk_tokens = tokens[w.doc_id]
                old = con.execute(
                    "SELECT version FROM documents WHERE collection=? AND doc_id=?", (info.name, w.doc_id)
                ).fetchone()
                old_version = old["version"] if old else None
                self._remove_rows(con, info, w.doc_id)
                if old_version:
                    stale.append((w.doc_id, old_version))
                self._insert_chunks(con, info, w.chunks, chunk_tokens)
                values = document_values(info.name, w, ingested=now)
                con.execute(
                    _UPSERT_DOCUMENT.format(
                        columns=", ".join(values),
                        marks=", ".join("?" * len(values)),
                        updates=", ".join(
                            f"{c}=excluded.{c}" for c in values if c not in ("collection", "doc_id")
                        ),
                    ),
                    tuple(values.values()),
                )
                con.execute(
                    f"INSERT INTO lexsum_{info.key}(rowid, tokens) SELECT id, ? FROM documents "
                    "WHERE collection=? AND doc_id=?",
                    (summary_tokens, info.name, w.doc_id),
                )
                con.execute(
                    "DELETE FROM intents WHERE collection=? AND doc_id=? AND version=?",
                    (info.name, w.doc_id, w.version),
                )
            con.executemany(
                "INSERT OR IGNORE INTO intents VALUES (?,?,?,?)", [(info.name, d, v, now) for d, v in stale]
            )
            _changed(con, info)
        return stale

    def unpublish(self, info: CollectionInfo, doc_ids: Sequence[str]) -> list[tuple[str, str]]:
        """Remove documents from the live set in one transaction; returns their (doc_id, version)."""
        gone: list[tuple[str, str]] = []
        now = time.time()
        with self.transaction() as con:
            for doc_id in doc_ids:
                row = con.execute(
                    "SELECT version FROM documents WHERE collection=? AND doc_id=?", (info.name, doc_id)
                ).fetchone()
                if row is None:
                    continue
                if row["version"]:
                    gone.append((doc_id, row["version"]))
                self._remove_rows(con, info, doc_id)
                con.execute("DELETE FROM documents WHERE collection=? AND doc_id=?", (info.name, doc_id))
            con.executemany(
                "INSERT OR IGNORE INTO intents VALUES (?,?,?,?)", [(info.name, d, v, now) for d, v in gone]
            )
            _changed(con, info)
        return gone

    def _remove_rows(self, con: sqlite3.Connection, info: CollectionInfo, doc_id: str) -> None:
        rowids = [
            r[0]
            for r in con.execute(
                "SELECT rowid FROM chunks WHERE collection=? AND doc_id=?", (info.name, doc_id)
            ).fetchall()
        ]
        if rowids:
            marks = ",".join("?" * len(rowids))
            con.execute(f"DELETE FROM lex_{info.key} WHERE rowid IN ({marks})", rowids)
            con.execute(f"DELETE FROM chunks WHERE rowid IN ({marks})", rowids)
        con.execute(
            f"DELETE FROM lexsum_{info.key} WHERE rowid IN (SELECT id FROM documents "
            "WHERE collection=? AND doc_id=?)",
            (info.name, doc_id),
        )

    def _insert_chunks(
        self, con: sqlite3.Connection, info: CollectionInfo, chunks: Sequence[Chunk], tokens: list[str]
    ) -> None:
        columns = ("id", "collection", "text", *CHUNK_COLUMNS)
        sql = f"INSERT INTO chunks({', '.join(columns)}) VALUES ({','.join('?' * len(columns))})"
        for c, toks in zip(chunks, tokens, strict=True):
            fields = stored_fields(c)
            cur = con.execute(sql, (c.id, info.name, c.text, *(fields[name] for name in CHUNK_COLUMNS)))
            con.execute(f"INSERT INTO lex_{info.key}(rowid, tokens) VALUES (?,?)", (cur.lastrowid, toks))

    # reads -------------------------------------------------------------------------------------------

    def chunks_of(self, collection: str, doc_id: str) -> list[Chunk]:
        """The live chunks of one document, in order."""
        sql = f"{CHUNK_SELECT} WHERE c.collection=? AND c.doc_id=? ORDER BY c.idx"
        rows = self.connection().execute(sql, (collection, doc_id)).fetchall()
        return [chunk_from_row(collection, r) for r in rows]

    def chunk_range(self, collection: str, doc_id: str, first: int, last: int) -> list[Chunk]:
        """The live chunks of one document with index `first` to `last` (inclusive), in order."""
        sql = f"{CHUNK_SELECT} WHERE c.collection=? AND c.doc_id=? AND c.idx BETWEEN ? AND ? ORDER BY c.idx"
        rows = self.connection().execute(sql, (collection, doc_id, first, last)).fetchall()
        return [chunk_from_row(collection, r) for r in rows]

    def titles(self, collection: str) -> list[tuple[str, str]]:
        sql = "SELECT doc_id, title FROM documents WHERE collection=? AND version IS NOT NULL"
        return [(r[0], r[1]) for r in self.connection().execute(sql, (collection,)).fetchall()]

    def document_texts(self, collection: str) -> list[tuple[str, str]]:
        """Each live document's title and summary, as one text: what the document is, in its language."""
        sql = "SELECT doc_id, title, summary FROM documents WHERE collection=? AND version IS NOT NULL"
        return [(r[0], f"{r[1]}\n{r[2]}") for r in self.connection().execute(sql, (collection,)).fetchall()]

    def change_stamp(self, collection: str) -> tuple[float, int]:
        """Changes whenever a document is added, replaced or removed, or the collection is re-created."""
        row = (
            self.connection()
            .execute("SELECT created, changes FROM collections WHERE name=?", (collection,))
            .fetchone()
        )
        return (float(row[0]), int(row[1])) if row else (0.0, -1)

    def counts(self, collection: str) -> dict[str, int]:
        con = self.connection()
        docs = con.execute(
            "SELECT count(*) FROM documents WHERE collection=? AND version IS NOT NULL", (collection,)
        ).fetchone()[0]
        chunks = con.execute("SELECT count(*) FROM chunks WHERE collection=?", (collection,)).fetchone()[0]
        return {"documents": int(docs), "chunks": int(chunks)}

    def failed_count(self, collection: str) -> int:
        """Files whose ingest failed and that have no live version (a failed update keeps the old one)."""
        sql = "SELECT count(*) FROM documents WHERE collection=? AND version IS NULL"
        return int(self.connection().execute(sql, (collection,)).fetchone()[0])


def _changed(con: sqlite3.Connection, info: CollectionInfo) -> None:
    con.execute("UPDATE collections SET changes = changes + 1 WHERE name=?", (info.name,))
