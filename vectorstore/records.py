"""What the stores hold, and the one mapping between chunks and summaries and their stored form: the
catalog's rows (SQLite) and Chroma's metadata carry the same fields under the same names."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any, TypeVar

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


LIVE_JOIN = (
    "JOIN documents d ON d.collection = c.collection AND d.doc_id = c.doc_id AND d.version = c.version"
)
CHUNK_SELECT = f"SELECT c.*, d.source, d.title, d.file_type FROM chunks c {LIVE_JOIN}"
"""Live chunk rows with their document's fields; add a WHERE clause."""

CHUNK_COLUMNS = ("doc_id", "version", "idx", "page", "section", "start", "end", "hash", "tokens")
"""The stored fields of a chunk the catalog's chunk rows hold (besides id and text); Chroma's metadata
holds them and the document's source, title and file type."""


_OWN = ("id", "collection", "text")  # kept beside the fields: Chroma's id and document, the row's columns
_STORED_AS = {"index": "idx"}
Record = TypeVar("Record", Chunk, DocumentSummary)


def stored_fields(record: Chunk | DocumentSummary) -> dict[str, Any]:
    """A chunk's or summary's fields as Chroma's metadata and the catalog's columns name them."""
    return {
        _STORED_AS.get(f.name, f.name): getattr(record, f.name) for f in fields(record) if f.name not in _OWN
    }


_LAYOUT: dict[type, tuple[tuple[str, str, object], ...]] = {
    kind: tuple((f.name, _STORED_AS.get(f.name, f.name), f.type) for f in fields(kind) if f.name not in _OWN)
    for kind in (Chunk, DocumentSummary)
}
"""Each stored field of a chunk and of a summary: its name, its stored name and its type."""


def from_stored(
    kind: type[Record], collection: str, record_id: str, text: str, m: Mapping[str, Any]
) -> Record:
    """The chunk or summary whose stored fields are `m` (missing ones empty)."""
    values: dict[str, Any] = {}
    for name, stored, kind_of in _LAYOUT[kind]:
        value = m.get(stored)
        if kind_of == "int":
            value = int(value or 0)
        elif kind_of == "str":
            value = value or ""
        values[name] = value
    return kind(id=record_id, collection=collection, text=text, **values)


def summary_id(doc_id: str, version: str) -> str:
    return f"{doc_id}:{version}:summary"


def summary_of(row: DocumentRow) -> DocumentSummary:
    """The summary record of a document's live version, as the catalog holds it."""
    assert row.version is not None
    stored: dict[str, Any] = {"doc_id": row.doc_id, "version": row.version, "source": row.source}
    stored["title"] = row.title
    stored |= {"strategy": row.summary_strategy, "chunk_count": row.chunk_count, "file_type": row.file_type}
    return from_stored(
        DocumentSummary, row.collection, summary_id(row.doc_id, row.version), row.summary, stored
    )


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


def chunk_from_row(collection: str, row: Mapping[str, Any]) -> Chunk:
    """A chunk from a row of CHUNK_SELECT."""
    return from_stored(Chunk, collection, row["id"], row["text"], dict(row))
