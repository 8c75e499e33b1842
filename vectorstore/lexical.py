"""BM25 over the catalog's FTS5 tables (one for chunks, one for summaries per collection), tokenised by
`lexical_tokens` (jieba for Chinese, words for the rest) at write and query time alike."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from rag_core.tokens import lexical_tokens
from rag_core.types import Chunk, DocumentSummary
from vectorstore.catalog import CHUNK_SELECT, Catalog, chunk_from_row
from vectorstore.records import CollectionInfo, document_row, summary_of


def quoted(token: str) -> str:
    return '"' + token.replace('"', '""') + '"'


def fts_query(text: str) -> str:
    return " OR ".join(quoted(t) for t in dict.fromkeys(lexical_tokens(text, query=True)))


class LexicalIndex:
    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog

    def chunks(
        self, info: CollectionInfo, query: str, k: int, doc_ids: Sequence[str] | None = None
    ) -> list[tuple[Chunk, float]]:
        """BM25 over chunk tokens; higher score is better. `doc_ids` restricts the search.

        Unrestricted, FTS5 ranks first and only the top rows are joined: joining every match before
        sorting costs seconds on a million chunks. Restricted to documents, the matches are joined with
        their chunk rows and filtered by document before ranking (benchmarks/README.md, scale): a
        `rowid IN (...)` inside the MATCH query makes FTS5 re-run the match per listed rowid (350 ms for
        ~700 rowids of a 1,200-chunk collection), and filtering FTS5's global ranking goes deep when
        the documents' chunks rank low."""
        match = fts_query(query)
        if not match or k <= 0 or (doc_ids is not None and not doc_ids):
            return []
        table = f"lex_{info.key}"
        con = self.catalog.connection()
        if doc_ids is not None:
            marks = ",".join("?" * len(doc_ids))
            ranked = con.execute(
                f"SELECT l.rowid, l.rank FROM {table} l JOIN chunks c ON c.rowid = l.rowid "
                f"WHERE {table} MATCH ? AND c.collection = ? AND c.doc_id IN ({marks}) "
                "ORDER BY l.rank LIMIT ?",
                (match, info.name, *doc_ids, k * 4),
            ).fetchall()
            return self._ranked_chunks(info, ranked, k)
        depth = k
        while True:
            ranked = con.execute(
                f"SELECT rowid, rank FROM {table} WHERE {table} MATCH ? ORDER BY rank LIMIT ?", (match, depth)
            ).fetchall()
            found = self._ranked_chunks(info, ranked, k)
            if len(found) >= k or len(ranked) < depth:
                return found
            depth *= 4

    def _ranked_chunks(
        self, info: CollectionInfo, ranked: list[sqlite3.Row], k: int
    ) -> list[tuple[Chunk, float]]:
        if not ranked:
            return []
        rank = {r[0]: float(r[1]) for r in ranked}
        marks = ",".join("?" * len(rank))
        rows = (
            self.catalog.connection()
            .execute(f"{CHUNK_SELECT} WHERE c.rowid IN ({marks})", tuple(rank))
            .fetchall()
        )
        hits = [(chunk_from_row(info.name, r), -rank[r["rowid"]]) for r in rows]
        hits.sort(key=lambda h: h[1], reverse=True)
        return hits[:k]

    def summaries(
        self, info: CollectionInfo, query: str, k: int, doc_ids: Sequence[str] | None = None
    ) -> list[tuple[DocumentSummary, float]]:
        match = fts_query(query)
        if not match or k <= 0 or (doc_ids is not None and not doc_ids):
            return []
        table = f"lexsum_{info.key}"
        sql = (
            f"SELECT d.*, -bm25({table}) AS score FROM {table} JOIN documents d ON d.id = {table}.rowid "
            f"WHERE {table} MATCH ? AND d.version IS NOT NULL"
        )
        args: list[object] = [match]
        if doc_ids is not None:
            sql += f" AND d.doc_id IN ({','.join('?' * len(doc_ids))})"
            args += list(doc_ids)
        sql += " ORDER BY score DESC LIMIT ?"
        args.append(k)
        hits = []
        for r in self.catalog.connection().execute(sql, args).fetchall():
            data = dict(r)
            score = float(data.pop("score"))
            hits.append((summary_of(document_row(data)), score))
        return hits


class TermStats:
    """Document frequency of query terms in a collection's chunks.
    Uses FTS5 itself, so stemming and tokenisation match the index exactly."""

    def __init__(self, catalog: Catalog, info: CollectionInfo) -> None:
        self.catalog = catalog
        self.info = info

    def chunk_count(self) -> int:
        return self.catalog.counts(self.info.name)["chunks"]

    def document_frequency(self, term: str) -> int:
        table = f"lex_{self.info.key}"
        sql = f"SELECT count(*) FROM {table} WHERE {table} MATCH ?"
        return int(self.catalog.connection().execute(sql, (quoted(term),)).fetchone()[0])
