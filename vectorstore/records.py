"""What the stores hold, and the one mapping between chunks and summaries and their stored form: the
catalog's rows (SQLite) and Chroma's metadata carry the same fields under the same names."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from rag_core.types import Chunk, DocumentSummary


@dataclass(frozen=True, slots=True)
class CollectionInfo:
    name: str
    key: str
    embedder: str
    dimension: int
    created: float
    vectors: str = ""  # the Chroma key of its vectors when they were rebuilt for another embedder
    rebuilding: str = ""  # the Chroma key of a rebuild in progress (or left by a crashed one)

    @property
    def dense_key(self) -> str:
        return self.vectors or self.key


@dataclass(frozen=True, slots=True)
class DocumentRow:
    collection: str
    doc_id: str
    source: str
    relpath: str
    title: str
    file_type: str
    version: str | None  # live generation id; None when no version was ever ingested
    content_hash: str | None
    fingerprint: str  # the ingest settings that produced the live version
    size: int | None
    mtime: float | None
    chunk_count: int
    summary: str
    summary_strategy: str
    metadata: dict[str, object]
    error: str | None
    ingested: float | None


@dataclass(frozen=True, slots=True)
class DocumentWrite:
    """Everything needed to make one document version live."""

    doc_id: str
    source: str
    relpath: str
    title: str
    file_type: str
    version: str  # a new generation id per write, never reused
    content_hash: str
    fingerprint: str
    size: int
    mtime: float
    summary: DocumentSummary
    chunks: Sequence[Chunk]
    metadata: dict[str, object]


CHUNK_COLUMNS = ("doc_id", "version", "idx", "page", "section", "start", "end", "hash", "tokens")
"""The fields of a chunk the catalog's chunk rows hold (besides id and text); Chroma's metadata holds
them and the document's source, title and file type."""


def chunk_fields(c: Chunk) -> dict[str, Any]:
    return {
        "doc_id": c.doc_id,
        "version": c.version,
        "source": c.source,
        "title": c.title,
        "idx": c.index,
        "page": c.page,
        "section": c.section,
        "start": c.start,
        "end": c.end,
        "hash": c.hash,
        "file_type": c.file_type,
        "tokens": c.tokens,
    }


def chunk_from_fields(collection: str, chunk_id: str, text: str, m: Mapping[str, Any]) -> Chunk:
    return Chunk(
        id=chunk_id,
        collection=collection,
        doc_id=m["doc_id"],
        version=m["version"],
        source=m.get("source") or "",
        title=m.get("title") or "",
        text=text,
        index=int(m.get("idx") or 0),
        page=m.get("page"),
        section=m.get("section") or "",
        start=int(m.get("start") or 0),
        end=int(m.get("end") or 0),
        hash=m.get("hash") or "",
        file_type=m.get("file_type") or "",
        tokens=int(m.get("tokens") or 0),
    )


def summary_fields(s: DocumentSummary) -> dict[str, Any]:
    return {
        "doc_id": s.doc_id,
        "version": s.version,
        "source": s.source,
        "title": s.title,
        "strategy": s.strategy,
        "chunk_count": s.chunk_count,
        "file_type": s.file_type,
    }


def summary_from_fields(collection: str, summary_id: str, text: str, m: Mapping[str, Any]) -> DocumentSummary:
    return DocumentSummary(
        id=summary_id,
        collection=collection,
        doc_id=m["doc_id"],
        version=m["version"],
        source=m.get("source") or "",
        title=m.get("title") or "",
        text=text,
        strategy=m.get("strategy") or "",
        chunk_count=int(m.get("chunk_count") or 0),
        file_type=m.get("file_type") or "",
    )


def summary_id(doc_id: str, version: str) -> str:
    return f"{doc_id}:{version}:summary"


def summary_of(row: DocumentRow) -> DocumentSummary:
    """The summary record of a document's live version, as the catalog holds it."""
    assert row.version is not None
    fields: dict[str, Any] = {"doc_id": row.doc_id, "version": row.version, "source": row.source}
    fields["title"] = row.title
    fields |= {"strategy": row.summary_strategy, "chunk_count": row.chunk_count, "file_type": row.file_type}
    return summary_from_fields(row.collection, summary_id(row.doc_id, row.version), row.summary, fields)


def document_values(collection: str, w: DocumentWrite, *, ingested: float) -> dict[str, Any]:
    """The catalog's documents row of a written version."""
    return {
        "collection": collection,
        "doc_id": w.doc_id,
        "source": w.source,
        "relpath": w.relpath,
        "title": w.title,
        "file_type": w.file_type,
        "version": w.version,
        "content_hash": w.content_hash,
        "fingerprint": w.fingerprint,
        "size": w.size,
        "mtime": w.mtime,
        "chunk_count": len(w.chunks),
        "summary": w.summary.text,
        "summary_strategy": w.summary.strategy,
        "metadata": json.dumps(w.metadata, ensure_ascii=False, default=str),
        "error": None,
        "ingested": ingested,
    }


def document_row(data: dict[str, Any]) -> DocumentRow:
    """A row of the catalog's documents table (its own id left out)."""
    data = {k: v for k, v in data.items() if k != "id"}
    data["metadata"] = json.loads(data["metadata"] or "{}")
    return DocumentRow(**data)
