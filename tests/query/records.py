"""Chunk records and rankings, as the index and the retriever return them, for stage tests that need no
index (light: no store, no model)."""

from __future__ import annotations

import hashlib

from rag_core.types import Chunk, ScoredChunk


def make_chunk(
    doc_id: str,
    text: str,
    *,
    index: int = 0,
    start: int = 0,
    end: int | None = None,
    page: int | None = None,
    source: str | None = None,
    title: str = "",
) -> Chunk:
    """A chunk record (as the index returns it) for stage tests that need no index."""
    return Chunk(
        id=f"{doc_id}:v1:{index}",
        collection="kb",
        doc_id=doc_id,
        version="v1",
        source=source or f"/docs/{doc_id}.txt",
        title=title or doc_id,
        text=text,
        index=index,
        page=page,
        section="",
        start=start,
        end=start + len(text) if end is None else end,
        hash=hashlib.blake2b(text.encode(), digest_size=12).hexdigest(),
        file_type="txt",
        tokens=len(text.split()),
    )


def scored(*chunks: Chunk, dense: float = 0.0) -> list[ScoredChunk]:
    """Chunks as a fused ranking: first is best."""
    return [ScoredChunk(c, 1.0 / (i + 1), {"dense": dense}) for i, c in enumerate(chunks)]
