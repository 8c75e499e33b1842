"""The two-level index: a summary record per document and its chunks, dense (Chroma) and lexical (BM25).

    index = TwoLevelIndex(Catalog(data_dir / "catalog.sqlite3"), ChromaStore(path=data_dir / "chroma"))
    info = index.open_collection("handbook", embedder="all-MiniLM-L6-v2", dimension=lambda: 384)
    index.write(info, writes, summary_vectors, chunk_vectors)     # atomic per document
    index.search_summaries(info, qvec, k=5)                         # pick documents
    index.search_chunks(info, qvec, k=10, doc_ids=[...])            # then their chunks

Write protocol (readers never see half a document, nor a deleted one):
1. record the new (doc_id, generation) pairs as intents in the catalog;
2. upsert the vectors into Chroma (not yet visible: readers filter on the live generation);
3. one catalog transaction makes the new generations live (chunk rows and BM25 entries included) and
   turns the replaced generations into intents;
4. delete the replaced generations from Chroma and clear their intents.
A crash anywhere leaves only intents behind; `recover` deletes their Chroma records on the next write.

A collection's vectors are rebuilt for another embedder (`rebuild`) into new Chroma collections, from
the texts the catalog holds, and replace the old ones in one catalog transaction; a crashed rebuild is
dropped by the next one.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Sequence

import numpy as np

from rag_core.errors import ConfigError, NotFoundError
from rag_core.types import Chunk, DocumentSummary, ScoredChunk, ScoredSummary
from vectorstore.catalog import Catalog
from vectorstore.chroma_store import ChromaStore, Hit, Level
from vectorstore.naming import collection_key, validate_collection_name
from vectorstore.records import (
    CollectionInfo,
    DocumentRow,
    DocumentWrite,
    from_stored,
    stored_fields,
    summary_of,
)

Vector = Sequence[float] | np.ndarray
Vectorize = Callable[
    [Sequence[DocumentSummary], Sequence[Sequence[Chunk]]],
    tuple[Sequence[Vector | None], Sequence[Vector | None]],
]
"""Vectors for documents' summaries and their chunks (in order); None for a text the embedder cannot read."""
_OVERFETCH = 8
_RETRIES = 3


def same_embedder(info: CollectionInfo, embedder: str) -> CollectionInfo:
    """`info`, if its collection was built with `embedder`; else a clear error: another model's vectors
    cannot be searched with this one's, even where their dimensions agree."""
    if info.embedder != embedder:
        raise ConfigError(
            f"collection {info.name!r} was built with embedder {info.embedder!r}, "
            f"but {embedder!r} is configured",
            hint=f"ingest into it again (rag ingest PATH --collection {info.name}): that re-embeds its "
            f"documents with {embedder!r}; or set RAG_EMBEDDING__MODEL="
            f"{info.embedder.removesuffix(' (bundled)')} to use it as it was built",
        )
    return info


class TwoLevelIndex:
    def __init__(self, catalog: Catalog, chroma: ChromaStore) -> None:
        self.catalog = catalog
        self.chroma = chroma

    # collections -----------------------------------------------------------------------------------

    def open_collection(self, name: str, *, embedder: str, dimension: Callable[[], int]) -> CollectionInfo:
        """Get or create a collection. `dimension` is only called to create one, so opening a collection
        does not load the model. A collection built with another embedder is returned as it is: writers
        `rebuild` it first, readers refuse it (`same_embedder`)."""
        name = validate_collection_name(name)
        info = self.catalog.collection(name)
        if info is None:
            key = collection_key(name, self.catalog.instance)
            info = CollectionInfo(name, key, embedder, dimension(), time.time())
            self.catalog.add_collection(info)
            return self.catalog.collection(name) or info
        return info

    def collection(self, name: str) -> CollectionInfo:
        info = self.catalog.collection(name)
        if info is None:
            known = ", ".join(c.name for c in self.catalog.collections()) or "none yet"
            raise NotFoundError(
                f"collection {name!r} does not exist (known: {known})",
                hint="ingest documents into it first: rag ingest PATH --collection NAME",
            )
        return info

    def delete_collection(self, name: str) -> None:
        info = self.collection(name)
        for key in dict.fromkeys((info.dense_key, info.rebuilding)):
            if key:
                self.chroma.drop(key)
        self.catalog.drop_collection(info)

    def rebuild(
        self,
        info: CollectionInfo,
        *,
        embedder: str,
        dimension: int,
        vectorize: Vectorize,
        batch_chunks: int,
        progress: Callable[[int, int], None] | None = None,
    ) -> CollectionInfo:
        """Re-embed every live document of the collection with `embedder` (through `vectorize`) into new
        Chroma collections, then switch to them in one catalog transaction. Readers use the old vectors
        until the switch. Call with the collection's writer lock held."""
        if info.rebuilding:
            self.chroma.drop(info.rebuilding)
        info = self.catalog.start_rebuild(info, f"{info.key}.{uuid.uuid4().hex[:8]}")
        rows = [r for r in self.catalog.documents(info.name) if r.version]
        batch: list[tuple[DocumentSummary, list[Chunk]]] = []
        for done, row in enumerate(rows, 1):
            batch.append((summary_of(row), self.catalog.chunks_of(info.name, row.doc_id)))
            if done == len(rows) or sum(len(c) for _, c in batch) >= batch_chunks:
                summaries, chunks = [s for s, _ in batch], [c for _, c in batch]
                summary_vectors, chunk_vectors = vectorize(summaries, chunks)
                self._upsert(info.rebuilding, summaries, summary_vectors, chunks, chunk_vectors)
                batch = []
                if progress:
                    progress(done, len(rows))
        old = info.dense_key
        info = self.catalog.finish_rebuild(info, embedder=embedder, dimension=dimension)
        self.chroma.drop(old)
        return info

    # writes ----------------------------------------------------------------------------------------

    def write(
        self,
        info: CollectionInfo,
        writes: Sequence[DocumentWrite],
        summary_vectors: Sequence[Vector | None],
        chunk_vectors: Sequence[Vector | None],
    ) -> None:
        """Make the given document versions live. `chunk_vectors` follow the writes' chunks in order.
        A record whose vector is None (text the embedder cannot read) is kept out of the dense index:
        it lives in the catalog and the BM25 index only."""
        if not writes:
            return
        self.catalog.add_intents(info.name, [(w.doc_id, w.version) for w in writes])
        summaries = [w.summary for w in writes]
        self._upsert(info.dense_key, summaries, summary_vectors, [w.chunks for w in writes], chunk_vectors)
        stale = self.catalog.publish(info, writes)
        self._purge(info, stale)

    def _upsert(
        self,
        key: str,
        summaries: Sequence[DocumentSummary],
        summary_vectors: Sequence[Vector | None],
        chunks: Sequence[Sequence[Chunk]],
        chunk_vectors: Sequence[Vector | None],
    ) -> None:
        with_summaries = [(s, v) for s, v in zip(summaries, summary_vectors, strict=True) if v is not None]
        with_chunks = [
            (c, v)
            for c, v in zip((c for cs in chunks for c in cs), chunk_vectors, strict=True)
            if v is not None
        ]
        self.chroma.upsert(
            key,
            "summaries",
            [s.id for s, _ in with_summaries],
            [v for _, v in with_summaries],
            [s.text for s, _ in with_summaries],
            [stored_fields(s) for s, _ in with_summaries],
        )
        self.chroma.upsert(
            key,
            "chunks",
            [c.id for c, _ in with_chunks],
            [v for _, v in with_chunks],
            [c.text for c, _ in with_chunks],
            [stored_fields(c) for c, _ in with_chunks],
        )

    def delete_documents(self, info: CollectionInfo, doc_ids: Sequence[str]) -> int:
        gone = self.catalog.unpublish(info, doc_ids)
        self._purge(info, gone)
        return len(gone)

    def recover(self, info: CollectionInfo) -> int:
        """Delete Chroma records left by interrupted writes. Call with the collection's writer lock held."""
        intents = self.catalog.intents(info.name)
        if not intents:
            return 0
        live = self.catalog.live_versions(info.name, [d for d, _ in intents])
        orphans = [(d, v) for d, v in intents if live.get(d) != v]
        self._purge(info, orphans)
        self.catalog.clear_intents(info.name, intents)
        return len(orphans)

    def _purge(self, info: CollectionInfo, pairs: Sequence[tuple[str, str]]) -> None:
        if pairs:
            self.chroma.delete_versions(info.dense_key, pairs)
            self.catalog.clear_intents(info.name, pairs)

    # reads -----------------------------------------------------------------------------------------

    def documents(self, info: CollectionInfo) -> list[DocumentRow]:
        return self.catalog.documents(info.name)

    def search_summaries(
        self, info: CollectionInfo, vector: Sequence[float], k: int, doc_ids: Sequence[str] | None = None
    ) -> list[ScoredSummary]:
        hits = self._dense(info, "summaries", vector, k, doc_ids)
        return [
            ScoredSummary(from_stored(DocumentSummary, info.name, h.id, h.document, h.metadata), h.score)
            for h in hits
        ]

    def search_chunks(
        self, info: CollectionInfo, vector: Sequence[float], k: int, doc_ids: Sequence[str] | None = None
    ) -> list[ScoredChunk]:
        hits = self._dense(info, "chunks", vector, k, doc_ids)
        return [
            ScoredChunk(
                from_stored(Chunk, info.name, h.id, h.document, h.metadata), h.score, {"dense": h.score}
            )
            for h in hits
        ]

    def _dense(
        self,
        info: CollectionInfo,
        level: Level,
        vector: Sequence[float],
        k: int,
        doc_ids: Sequence[str] | None,
    ) -> list[Hit]:
        """Top `k` live records. Records of other generations are skipped; when that leaves fewer than
        `k` (a write replaced documents between the Chroma query and the live check, or a crashed write
        left records behind), the search runs again wider, so the reader gets the new generation
        instead of neither."""
        fetch = k + _OVERFETCH
        for _ in range(_RETRIES):
            found = self.chroma.query(info.dense_key, level, vector, fetch, doc_ids)
            live, replaced = self._live(info, found)
            if len(live) >= k or (len(found) < fetch and not replaced):  # enough, or nothing more
                return live[:k]
            fetch *= 4
        return live[:k]

    def lexical_chunks(
        self, info: CollectionInfo, query: str, k: int, doc_ids: Sequence[str] | None = None
    ) -> list[ScoredChunk]:
        return [
            ScoredChunk(c, s, {"lexical": s}) for c, s in self.catalog.lexicon.chunks(info, query, k, doc_ids)
        ]

    def lexical_summaries(
        self, info: CollectionInfo, query: str, k: int, doc_ids: Sequence[str] | None = None
    ) -> list[ScoredSummary]:
        return [ScoredSummary(d, s) for d, s in self.catalog.lexicon.summaries(info, query, k, doc_ids)]

    def _live(self, info: CollectionInfo, hits: list[Hit]) -> tuple[list[Hit], bool]:
        """The hits of live generations, and whether any hit was dropped because its document is now
        live in another generation (replaced since the query)."""
        live = self.catalog.live_versions(info.name, [h.metadata.get("doc_id", "") for h in hits])
        kept = [h for h in hits if live.get(h.metadata.get("doc_id", ""), False) == h.metadata.get("version")]
        replaced = len(kept) < len(hits) and any(
            h.metadata.get("doc_id", "") in live and live[h.metadata["doc_id"]] != h.metadata.get("version")
            for h in hits
        )
        return kept, replaced
