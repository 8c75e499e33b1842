"""BM25 in SQL over term postings, for the catalog on PostgreSQL.

The same tokens as the SQLite index (`lexical_tokens`: jieba words for Chinese, words for the rest) are
turned into terms as SQLite's FTS5 `porter unicode61 remove_diacritics 2` tokenizer turns them (split at
non-alphanumerics, diacritics removed, ASCII words Porter-stemmed), and ranked with FTS5's BM25
(k1 = 1.2, b = 0.75, idf = ln((N - df + 0.5) / (df + 0.5)), at least 1e-6), so both databases rank alike.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections import Counter
from collections.abc import Sequence
from functools import lru_cache

from rag_core.types import Chunk, DocumentSummary
from vectorstore.database import Database, Transaction
from vectorstore.lexical import query_tokens, scored_summaries
from vectorstore.records import LIVE_JOIN, CollectionInfo, chunk_from_row

K1 = 1.2
B = 0.75
_SEPARATOR = re.compile(r"[\W_]+")
_porter = threading.local()


@lru_cache(maxsize=65536)
def _term(part: str) -> str:
    plain = "".join(ch for ch in unicodedata.normalize("NFKD", part) if not unicodedata.combining(ch))
    if plain.isascii() and plain.isalpha():
        stemmer = getattr(_porter, "stemmer", None)
        if stemmer is None:
            import snowballstemmer

            stemmer = _porter.stemmer = snowballstemmer.stemmer("porter")
        return str(stemmer.stemWord(plain))
    return plain


def index_terms(tokens: Sequence[str]) -> list[str]:
    return [_term(part) for token in tokens for part in _SEPARATOR.split(token.lower()) if part]


def _bm25(postings: str, lengths: str, key: str) -> str:
    """SQL: (key, score) of the rows holding the query's terms (`?` 1: the terms, 2 and 3: the
    collection), best first; `{restrict}` is left for a condition on `p.{key}`. Arithmetic in float8
    (numeric made the aggregate over 100k postings ~10x slower), each term's idf computed once."""
    return (
        "WITH q AS (SELECT DISTINCT unnest(CAST(? AS TEXT[])) AS term), "
        "stats AS (SELECT CAST(count(*) AS float8) AS n, CAST(coalesce(avg(length), 1) AS float8) AS avgdl "
        f"FROM {lengths} WHERE collection = ?), "
        "df AS (SELECT p.term, greatest(ln((s.n - count(*) + 0.5) / (count(*) + 0.5)), 1e-6) AS idf "
        f"FROM {postings} p JOIN q ON q.term = p.term CROSS JOIN stats s "
        "WHERE p.collection = ? GROUP BY p.term, s.n) "
        f"SELECT p.{key} AS {key}, sum(df.idf "
        f"* p.tf * {K1 + 1} / (p.tf + {K1} * ({1 - B} + {B} * p.length / s.avgdl))) AS score "
        f"FROM {postings} p JOIN df ON df.term = p.term CROSS JOIN stats s "
        "WHERE p.collection = ? {restrict} "
        f"GROUP BY p.{key} ORDER BY score DESC LIMIT ?"
    )


_CHUNKS = _bm25("chunk_terms", "chunk_lengths", "chunk")
_SUMMARIES = _bm25("summary_terms", "summary_lengths", "document")


class PostingsLexicon:
    def __init__(self, db: Database) -> None:
        self.db = db

    def create(self, tx: Transaction, info: CollectionInfo) -> None:
        pass  # the postings tables hold every collection

    def drop(self, tx: Transaction, info: CollectionInfo) -> None:
        for table in ("chunk_terms", "chunk_lengths", "summary_terms", "summary_lengths"):
            tx.execute(f"DELETE FROM {table} WHERE collection=?", (info.name,))

    def _add(self, tx: Transaction, info: CollectionInfo, kind: str, key: int, tokens: list[str]) -> None:
        terms = Counter(index_terms(tokens))
        length = sum(terms.values())
        tx.execute(f"INSERT INTO {kind}_lengths VALUES (?,?,?)", (key, info.name, length))
        if terms:
            rows = [(info.name, key, t, n, length) for t, n in terms.items()]
            tx.executemany(f"INSERT INTO {kind}_terms VALUES (?,?,?,?,?)", rows)

    def add_chunk(self, tx: Transaction, info: CollectionInfo, rowid: int, tokens: list[str]) -> None:
        self._add(tx, info, "chunk", rowid, tokens)

    def remove_chunks(self, tx: Transaction, info: CollectionInfo, rowids: list[int]) -> None:
        marks = ",".join("?" * len(rowids))
        tx.execute(f"DELETE FROM chunk_terms WHERE chunk IN ({marks})", rowids)
        tx.execute(f"DELETE FROM chunk_lengths WHERE chunk IN ({marks})", rowids)

    def add_summary(self, tx: Transaction, info: CollectionInfo, document: int, tokens: list[str]) -> None:
        self._add(tx, info, "summary", document, tokens)

    def remove_summary(self, tx: Transaction, info: CollectionInfo, document: int) -> None:
        tx.execute("DELETE FROM summary_terms WHERE document=?", (document,))
        tx.execute("DELETE FROM summary_lengths WHERE document=?", (document,))

    def chunks(
        self, info: CollectionInfo, query: str, k: int, doc_ids: Sequence[str] | None = None
    ) -> list[tuple[Chunk, float]]:
        terms = index_terms(query_tokens(query, k, doc_ids))
        if not terms:
            return []
        restrict, extra = "", []
        if doc_ids is not None:
            restrict = (
                "AND p.chunk IN (SELECT rowid FROM chunks WHERE collection = ? "
                f"AND doc_id IN ({','.join('?' * len(doc_ids))}))"
            )
            extra = [info.name, *doc_ids]
        sql = (
            f"WITH scored AS ({_CHUNKS.format(restrict=restrict)}) "
            f"SELECT c.*, d.source, d.title, d.file_type, scored.score AS score FROM scored "
            f"JOIN chunks c ON c.rowid = scored.chunk {LIVE_JOIN} ORDER BY scored.score DESC"
        )
        rows = self.db.rows(sql, (terms, info.name, info.name, info.name, *extra, k))
        return [(chunk_from_row(info.name, r), float(r["score"])) for r in rows]

    def summaries(
        self, info: CollectionInfo, query: str, k: int, doc_ids: Sequence[str] | None = None
    ) -> list[tuple[DocumentSummary, float]]:
        terms = index_terms(query_tokens(query, k, doc_ids))
        if not terms:
            return []
        live = (
            "AND p.document IN (SELECT id FROM documents WHERE collection = ? AND version IS NOT NULL{ids})"
        )
        ids = f" AND doc_id IN ({','.join('?' * len(doc_ids))})" if doc_ids is not None else ""
        restrict = live.format(ids=ids)
        sql = (
            f"WITH scored AS ({_SUMMARIES.format(restrict=restrict)}) "
            "SELECT d.*, scored.score AS score FROM scored JOIN documents d ON d.id = scored.document "
            "ORDER BY scored.score DESC"
        )
        rows = self.db.rows(sql, (terms, info.name, info.name, info.name, info.name, *(doc_ids or ()), k))
        return scored_summaries(rows)

    def document_frequency(self, info: CollectionInfo, term: str) -> int:
        terms = list(dict.fromkeys(index_terms([term])))
        if not terms:
            return 0
        row = self.db.row(
            "SELECT count(*) AS n FROM (SELECT chunk FROM chunk_terms WHERE collection = ? "
            f"AND term IN ({','.join('?' * len(terms))}) GROUP BY chunk HAVING count(*) = ?) AS hits",
            (info.name, *terms, len(terms)),
        )
        return int(row["n"]) if row else 0
