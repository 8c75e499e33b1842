"""The catalog: the source of truth for what is live in every collection, in SQLite (a file in the data
dir) or PostgreSQL (`RAG_DATABASE__URL`, replicas on several hosts).

It keeps the manifest (one row per document: path, content hash, counts, status), the chunk rows, the
lexical BM25 index, and write intents. Chroma holds the vectors; a Chroma record is visible to queries
only when its (doc_id, version) is the live version here, so a document flips from old to new content in
one transaction and no reader sees both or neither.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from pathlib import Path

from rag_core.errors import NotFoundError
from rag_core.tokens import lexical_tokens
from rag_core.types import Chunk
from vectorstore.database import Transaction, open_database
from vectorstore.lexical import Fts5Lexicon, Lexicon
from vectorstore.postings import PostingsLexicon
from vectorstore.records import (
    CHUNK_COLUMNS,
    CHUNK_SELECT,
    CollectionInfo,
    DocumentRow,
    DocumentWrite,
    chunk_from_row,
    document_row,
    document_values,
    stored_fields,
)
from vectorstore.schema import CATALOG_MIGRATIONS, SQLITE_ADDED_COLUMNS, SQLITE_CATALOG

_INFO = "name, key, embedder, dimension, created, vectors, rebuilding"
_UPSERT_DOCUMENT = (
    "INSERT INTO documents({columns}) VALUES ({marks}) "
    "ON CONFLICT(collection, doc_id) DO UPDATE SET {updates}"
)
_ADD_INTENT = "INSERT INTO intents VALUES (?,?,?,?) ON CONFLICT DO NOTHING"


class Catalog:
    """Thread-safe access to the catalog. `where`: the SQLite file, or a postgresql:// URL."""

    def __init__(self, where: Path | str) -> None:
        self.db = open_database(
            where,
            name="catalog",
            sqlite_schema=SQLITE_CATALOG,
            migrations=CATALOG_MIGRATIONS,
            added=SQLITE_ADDED_COLUMNS,
        )
        self.lexicon: Lexicon = (
            PostingsLexicon(self.db) if self.db.dialect == "postgresql" else Fts5Lexicon(self.db)
        )
        with self.db.transaction() as tx:
            tx.execute("INSERT INTO meta VALUES ('instance', ?) ON CONFLICT DO NOTHING", (uuid.uuid4().hex,))
        row = self.db.row("SELECT value FROM meta WHERE name='instance'")
        assert row is not None
        self.instance: str = row["value"]

    def close(self) -> None:
        self.db.close()

    def writer_lock(self, key: str, *, timeout: float = 600) -> AbstractContextManager[None]:
        """One writer per collection at a time, across processes (and hosts, on a server database)."""
        return self.db.writer_lock(key, timeout=timeout)

    # collections -----------------------------------------------------------------------------------

    def collection(self, name: str) -> CollectionInfo | None:
        row = self.db.row(f"SELECT {_INFO} FROM collections WHERE name=?", (name,))
        return CollectionInfo(**dict(row)) if row else None

    def collections(self) -> list[CollectionInfo]:
        return [
            CollectionInfo(**dict(r)) for r in self.db.rows(f"SELECT {_INFO} FROM collections ORDER BY name")
        ]

    def add_collection(self, info: CollectionInfo) -> None:
        with self.db.transaction() as tx:
            tx.execute(
                "INSERT INTO collections(name, key, embedder, dimension, created) VALUES (?,?,?,?,?) "
                "ON CONFLICT DO NOTHING",
                (info.name, info.key, info.embedder, info.dimension, info.created),
            )
            self.lexicon.create(tx, info)

    def drop_collection(self, info: CollectionInfo) -> None:
        with self.db.transaction() as tx:
            self.lexicon.drop(tx, info)
            tx.execute("DELETE FROM collections WHERE name=?", (info.name,))
            for table in ("chunks", "documents", "intents"):
                tx.execute(f"DELETE FROM {table} WHERE collection=?", (info.name,))

    def start_rebuild(self, info: CollectionInfo, key: str) -> CollectionInfo:
        """Record that the collection's vectors are being rebuilt under the Chroma key `key`."""
        with self.db.transaction() as tx:
            tx.execute("UPDATE collections SET rebuilding=? WHERE name=?", (key, info.name))
        return self._existing(info.name)

    def finish_rebuild(self, info: CollectionInfo, *, embedder: str, dimension: int) -> CollectionInfo:
        """Make the rebuilt vectors (`info.rebuilding`) the collection's, made by `embedder`."""
        with self.db.transaction() as tx:
            tx.execute(
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
        rows = self.db.rows("SELECT * FROM documents WHERE collection=? ORDER BY relpath", (collection,))
        return [document_row(dict(r)) for r in rows]

    def document(self, collection: str, doc_id: str) -> DocumentRow | None:
        row = self.db.row("SELECT * FROM documents WHERE collection=? AND doc_id=?", (collection, doc_id))
        return document_row(dict(row)) if row else None

    def live_versions(self, collection: str, doc_ids: Iterable[str]) -> dict[str, str]:
        ids = list(dict.fromkeys(doc_ids))
        if not ids:
            return {}
        rows = self.db.rows(
            "SELECT doc_id, version FROM documents WHERE collection=? AND version IS NOT NULL "
            f"AND doc_id IN ({','.join('?' * len(ids))})",
            (collection, *ids),
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
            prefix = "substr({}, 1, CAST(? AS INTEGER)) = ?"
            sql += f" AND ({prefix.format('source')} OR {prefix.format('relpath')})"
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
        return [r["doc_id"] for r in self.db.rows(sql, args)]

    def touch(self, collection: str, doc_id: str, *, size: int, mtime: float) -> None:
        with self.db.transaction() as tx:
            tx.execute(
                "UPDATE documents SET size=?, mtime=? WHERE collection=? AND doc_id=?",
                (size, mtime, collection, doc_id),
            )

    def record_failure(
        self, collection: str, *, doc_id: str, source: str, relpath: str, file_type: str, error: str
    ) -> None:
        """Note a failed attempt; a previously ingested version stays live."""
        with self.db.transaction() as tx:
            tx.execute(
                "INSERT INTO documents(collection, doc_id, source, relpath, file_type, error) "
                "VALUES (?,?,?,?,?,?) ON CONFLICT(collection, doc_id) DO UPDATE SET error=excluded.error",
                (collection, doc_id, source, relpath, file_type, error),
            )

    # the write protocol ----------------------------------------------------------------------------

    def add_intents(self, collection: str, pairs: Iterable[tuple[str, str]]) -> None:
        """Record (doc_id, version) pairs about to be written to Chroma, before writing them."""
        now = time.time()
        rows = [(collection, d, v, now) for d, v in pairs]
        if rows:
            with self.db.transaction() as tx:
                tx.executemany(_ADD_INTENT, rows)

    def intents(self, collection: str) -> list[tuple[str, str]]:
        rows = self.db.rows("SELECT doc_id, version FROM intents WHERE collection=?", (collection,))
        return [(r["doc_id"], r["version"]) for r in rows]

    def clear_intents(self, collection: str, pairs: Iterable[tuple[str, str]]) -> None:
        rows = [(collection, d, v) for d, v in pairs]
        if rows:
            with self.db.transaction() as tx:
                tx.executemany("DELETE FROM intents WHERE collection=? AND doc_id=? AND version=?", rows)

    def publish(self, info: CollectionInfo, writes: Sequence[DocumentWrite]) -> list[tuple[str, str]]:
        """Make each written version live in one transaction. Returns the (doc_id, version) pairs that
        are no longer live; they stay recorded as intents until their Chroma records are deleted."""
        stale: list[tuple[str, str]] = []
        now = time.time()
        tokens = {
            w.doc_id: (
                lexical_tokens(f"{w.title}\n{w.summary.text}"),
                [lexical_tokens(f"{c.title}\n{c.section}\n{c.text}") for c in w.chunks],
            )
            for w in writes
        }
        with self.db.transaction() as tx:
            for w in writes:
                summary_tokens, chunk_tokens = tokens[w.doc_id]
                old = tx.execute(
                    "SELECT version FROM documents WHERE collection=? AND doc_id=?", (info.name, w.doc_id)
                ).fetchone()
                if old and old["version"]:
                    stale.append((w.doc_id, old["version"]))
                self._remove_rows(tx, info, w.doc_id)
                self._insert_chunks(tx, info, w.chunks, chunk_tokens)
                values = document_values(info.name, w, ingested=now)
                row = tx.execute(
                    _UPSERT_DOCUMENT.format(
                        columns=", ".join(values),
                        marks=", ".join("?" * len(values)),
                        updates=", ".join(
                            f"{c}=excluded.{c}" for c in values if c not in ("collection", "doc_id")
                        ),
                    )
                    + " RETURNING id",
                    tuple(values.values()),
                ).fetchone()
                self.lexicon.add_summary(tx, info, row["id"], summary_tokens)
                tx.execute(
                    "DELETE FROM intents WHERE collection=? AND doc_id=? AND version=?",
                    (info.name, w.doc_id, w.version),
                )
            if stale:
                tx.executemany(_ADD_INTENT, [(info.name, d, v, now) for d, v in stale])
            _changed(tx, info)
        return stale

    def unpublish(self, info: CollectionInfo, doc_ids: Sequence[str]) -> list[tuple[str, str]]:
        """Remove documents from the live set in one transaction; returns their (doc_id, version)."""
        gone: list[tuple[str, str]] = []
        now = time.time()
        with self.db.transaction() as tx:
            for doc_id in doc_ids:
                row = tx.execute(
                    "SELECT version FROM documents WHERE collection=? AND doc_id=?", (info.name, doc_id)
                ).fetchone()
                if row is None:
                    continue
                if row["version"]:
                    gone.append((doc_id, row["version"]))
                self._remove_rows(tx, info, doc_id)
                tx.execute("DELETE FROM documents WHERE collection=? AND doc_id=?", (info.name, doc_id))
            if gone:
                tx.executemany(_ADD_INTENT, [(info.name, d, v, now) for d, v in gone])
            _changed(tx, info)
        return gone

    def _remove_rows(self, tx: Transaction, info: CollectionInfo, doc_id: str) -> None:
        rows = tx.execute(
            "SELECT rowid FROM chunks WHERE collection=? AND doc_id=?", (info.name, doc_id)
        ).fetchall()
        rowids = [r["rowid"] for r in rows]
        if rowids:
            self.lexicon.remove_chunks(tx, info, rowids)
            tx.execute(f"DELETE FROM chunks WHERE rowid IN ({','.join('?' * len(rowids))})", rowids)
        document = tx.execute(
            "SELECT id FROM documents WHERE collection=? AND doc_id=?", (info.name, doc_id)
        ).fetchone()
        if document:
            self.lexicon.remove_summary(tx, info, document["id"])

    def _insert_chunks(
        self, tx: Transaction, info: CollectionInfo, chunks: Sequence[Chunk], tokens: list[list[str]]
    ) -> None:
        columns = ("id", "collection", "text", *(f'"{c}"' for c in CHUNK_COLUMNS))
        marks = ",".join("?" * len(columns))
        sql = f"INSERT INTO chunks({', '.join(columns)}) VALUES ({marks}) RETURNING rowid"
        for c, toks in zip(chunks, tokens, strict=True):
            fields = stored_fields(c)
            row = tx.execute(
                sql, (c.id, info.name, c.text, *(fields[name] for name in CHUNK_COLUMNS))
            ).fetchone()
            self.lexicon.add_chunk(tx, info, row["rowid"], toks)

    # reads -------------------------------------------------------------------------------------------

    def chunks_of(self, collection: str, doc_id: str) -> list[Chunk]:
        """The live chunks of one document, in order."""
        rows = self.db.rows(
            f"{CHUNK_SELECT} WHERE c.collection=? AND c.doc_id=? ORDER BY c.idx", (collection, doc_id)
        )
        return [chunk_from_row(collection, r) for r in rows]

    def chunk_range(self, collection: str, doc_id: str, first: int, last: int) -> list[Chunk]:
        """The live chunks of one document with index `first` to `last` (inclusive), in order."""
        sql = f"{CHUNK_SELECT} WHERE c.collection=? AND c.doc_id=? AND c.idx BETWEEN ? AND ? ORDER BY c.idx"
        return [chunk_from_row(collection, r) for r in self.db.rows(sql, (collection, doc_id, first, last))]

    def titles(self, collection: str) -> list[tuple[str, str]]:
        sql = "SELECT doc_id, title FROM documents WHERE collection=? AND version IS NOT NULL"
        return [(r["doc_id"], r["title"]) for r in self.db.rows(sql, (collection,))]

    def document_texts(self, collection: str) -> list[tuple[str, str]]:
        """Each live document's title and summary, as one text: what the document is, in its language."""
        sql = "SELECT doc_id, title, summary FROM documents WHERE collection=? AND version IS NOT NULL"
        return [(r["doc_id"], f"{r['title']}\n{r['summary']}") for r in self.db.rows(sql, (collection,))]

    def change_stamp(self, collection: str) -> tuple[float, int]:
        """Changes whenever a document is added, replaced or removed, or the collection is re-created."""
        row = self.db.row("SELECT created, changes FROM collections WHERE name=?", (collection,))
        return (float(row["created"]), int(row["changes"])) if row else (0.0, -1)

    def counts(self, collection: str) -> dict[str, int]:
        row = self.db.row(
            "SELECT (SELECT count(*) FROM documents WHERE collection=? AND version IS NOT NULL) "
            "AS documents, (SELECT count(*) FROM chunks WHERE collection=?) AS chunks",
            (collection, collection),
        )
        assert row is not None
        return {"documents": int(row["documents"]), "chunks": int(row["chunks"])}

    def failed_count(self, collection: str) -> int:
        """Files whose ingest failed and that have no live version (a failed update keeps the old one)."""
        row = self.db.row(
            "SELECT count(*) AS n FROM documents WHERE collection=? AND version IS NULL", (collection,)
        )
        return int(row["n"]) if row else 0


def _changed(tx: Transaction, info: CollectionInfo) -> None:
    tx.execute("UPDATE collections SET changes = changes + 1 WHERE name=?", (info.name,))
