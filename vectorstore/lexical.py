"""The lexical (BM25) index beside the catalog's rows, kept in the same transactions: FTS5 tables in SQLite
(one for chunks, one for summaries per collection), or term postings in PostgreSQL (vectorstore/postings.py).
Texts are tokenised by `lexical_tokens` (jieba for Chinese, words for the rest) at write and query time."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from rag_core.tokens import lexical_tokens
from rag_core.types import Chunk, DocumentSummary
from vectorstore.database import Database, Row, Transaction
from vectorstore.records import CHUNK_SELECT, CollectionInfo, chunk_from_row, document_row, summary_of

FTS_COLUMNS = "tokens, tokenize='porter unicode61 remove_diacritics 2'"


class Lexicon(Protocol):
    """Writes (inside the catalog's transactions) and BM25 searches; higher scores are better."""

    def create(self, tx: Transaction, info: CollectionInfo) -> None: ...

    def drop(self, tx: Transaction, info: CollectionInfo) -> None: ...

    def add_chunk(self, tx: Transaction, info: CollectionInfo, rowid: int, tokens: list[str]) -> None: ...

    def remove_chunks(self, tx: Transaction, info: CollectionInfo, rowids: list[int]) -> None: ...

    def add_summary(
        self, tx: Transaction, info: CollectionInfo, document: int, tokens: list[str]
    ) -> None: ...

    def remove_summary(self, tx: Transaction, info: CollectionInfo, document: int) -> None: ...

    def chunks(
        self, info: CollectionInfo, query: str, k: int, doc_ids: Sequence[str] | None = None
    ) -> list[tuple[Chunk, float]]: ...

    def summaries(
        self, info: CollectionInfo, query: str, k: int, doc_ids: Sequence[str] | None = None
    ) -> list[tuple[DocumentSummary, float]]: ...

    def document_frequency(self, info: CollectionInfo, term: str) -> int: ...


def query_tokens(query: str, k: int, doc_ids: Sequence[str] | None) -> list[str]:
    """The query's distinct tokens; none when nothing can match (no words, k <= 0, no documents)."""
    if k <= 0 or (doc_ids is not None and not doc_ids):
        return []
    return list(dict.fromkeys(lexical_tokens(query, query=True)))


def scored_summaries(rows: Sequence[Row]) -> list[tuple[DocumentSummary, float]]:
    hits = []
    for r in rows:
        data: dict[str, Any] = dict(r)
        score = float(data.pop("score"))
        hits.append((summary_of(document_row(data)), score))
    return hits


def _quoted(token: str) -> str:
    return '"' + token.replace('"', '""') + '"'


class Fts5Lexicon:
    def __init__(self, db: Database) -> None:
        self.db = db

    def create(self, tx: Transaction, info: CollectionInfo) -> None:
        for table in (f"lex_{info.key}", f"lexsum_{info.key}"):
            tx.execute(f"CREATE VIRTUAL TABLE IF NOT EXISTS {table} USING fts5({FTS_COLUMNS})")

    def drop(self, tx: Transaction, info: CollectionInfo) -> None:
        for table in (f"lex_{info.key}", f"lexsum_{info.key}"):
            tx.execute(f"DROP TABLE IF EXISTS {table}")

    def add_chunk(self, tx: Transaction, info: CollectionInfo, rowid: int, tokens: list[str]) -> None:
        tx.execute(f"INSERT INTO lex_{info.key}(rowid, tokens) VALUES (?,?)", (rowid, " ".join(tokens)))

    def remove_chunks(self, tx: Transaction, info: CollectionInfo, rowids: list[int]) -> None:
        tx.execute(f"DELETE FROM lex_{info.key} WHERE rowid IN ({','.join('?' * len(rowids))})", rowids)

    def add_summary(self, tx: Transaction, info: CollectionInfo, document: int, tokens: list[str]) -> None:
        tx.execute(f"INSERT INTO lexsum_{info.key}(rowid, tokens) VALUES (?,?)", (document, " ".join(tokens)))

    def remove_summary(self, tx: Transaction, info: CollectionInfo, document: int) -> None:
        tx.execute(f"DELETE FROM lexsum_{info.key} WHERE rowid=?", (document,))

    def chunks(
        self, info: CollectionInfo, query: str, k: int, doc_ids: Sequence[str] | None = None
    ) -> list[tuple[Chunk, float]]:
        """Unrestricted, FTS5 ranks first and only the top rows are joined: joining every match before
        sorting costs seconds on a million chunks. Restricted to documents, the matches are joined with
        their chunk rows and filtered by document before ranking (benchmarks/README.md, scale): a
        `rowid IN (...)` inside the MATCH query makes FTS5 re-run the match per listed rowid (350 ms for
        ~700 rowids of a 1,200-chunk collection), and filtering FTS5's global ranking goes deep when
        the documents' chunks rank low."""
        tokens = query_tokens(query, k, doc_ids)
        if not tokens:
            return []
        match = " OR ".join(_quoted(t) for t in tokens)
        table = f"lex_{info.key}"
        if doc_ids is not None:
            ranked = self.db.rows(
                f"SELECT l.rowid AS rowid, l.rank AS rank FROM {table} l JOIN chunks c ON c.rowid = l.rowid "
                f"WHERE {table} MATCH ? AND c.collection = ? "
                f"AND c.doc_id IN ({','.join('?' * len(doc_ids))}) ORDER BY l.rank LIMIT ?",
                (match, info.name, *doc_ids, k * 4),
            )
            return self._ranked_chunks(info, ranked, k)
        depth = k
        while True:
            ranked = self.db.rows(
                f"SELECT rowid, rank FROM {table} WHERE {table} MATCH ? ORDER BY rank LIMIT ?", (match, depth)
            )
            found = self._ranked_chunks(info, ranked, k)
            if len(found) >= k or len(ranked) < depth:
                return found
            depth *= 4

    def _ranked_chunks(self, info: CollectionInfo, ranked: list[Row], k: int) -> list[tuple[Chunk, float]]:
        if not ranked:
            return []
        rank = {r["rowid"]: float(r["rank"]) for r in ranked}
        rows = self.db.rows(f"{CHUNK_SELECT} WHERE c.rowid IN ({','.join('?' * len(rank))})", tuple(rank))
        hits = [(chunk_from_row(info.name, r), -rank[r["rowid"]]) for r in rows]
        hits.sort(key=lambda h: h[1], reverse=True)
        return hits[:k]

    def summaries(
        self, info: CollectionInfo, query: str, k: int, doc_ids: Sequence[str] | None = None
    ) -> list[tuple[DocumentSummary, float]]:
        tokens = query_tokens(query, k, doc_ids)
        if not tokens:
            return []
        table = f"lexsum_{info.key}"
        sql = (
            f"SELECT d.*, -bm25({table}) AS score FROM {table} JOIN documents d ON d.id = {table}.rowid "
            f"WHERE {table} MATCH ? AND d.version IS NOT NULL"
        )
        args: list[object] = [" OR ".join(_quoted(t) for t in tokens)]
        if doc_ids is not None:
            sql += f" AND d.doc_id IN ({','.join('?' * len(doc_ids))})"
            args += list(doc_ids)
        sql += " ORDER BY score DESC LIMIT ?"
        args.append(k)
        return scored_summaries(self.db.rows(sql, args))

    def document_frequency(self, info: CollectionInfo, term: str) -> int:
        table = f"lex_{info.key}"
        row = self.db.row(f"SELECT count(*) AS n FROM {table} WHERE {table} MATCH ?", (_quoted(term),))
        return int(row["n"]) if row else 0


class TermStats:
    """Document frequency of query terms in a collection's chunks, as the lexical index counts them."""

    def __init__(self, catalog: Any, info: CollectionInfo) -> None:
        self.catalog = catalog
        self.info = info

    def chunk_count(self) -> int:
        return int(self.catalog.counts(self.info.name)["chunks"])

    def document_frequency(self, term: str) -> int:
        return int(self.catalog.lexicon.document_frequency(self.info, term))
