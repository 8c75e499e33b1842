"""Shared value types. Imports nothing of ours, so every layer can use them.

Internal records are slotted dataclasses (cheap on the ingest hot path); the public response shape
(`QueryResponse`, `Citation`) is pydantic, shared by `rag ask --json` and `POST /v1/query`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, Field


@dataclass(frozen=True, slots=True)
class Section:
    """A structural piece of a loaded document: text under one heading path, on one page."""

    text: str
    page: int | None = None  # 1-based page number (PDF, slide number for PPTX, sheet index for XLSX)
    headings: tuple[str, ...] = ()  # heading path, outermost first
    kind: str = "text"  # text | table | heading-only content markers from loaders


@dataclass(slots=True)
class LoadedDocument:
    """What a loader returns: the document's text as ordered sections plus descriptive metadata."""

    title: str
    file_type: str  # pdf, docx, pptx, xlsx, csv, html, md, txt, eml
    sections: list[Section]
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def text(self) -> str:
        return "\n\n".join(s.text for s in self.sections)


@dataclass(frozen=True, slots=True)
class Chunk:
    """One retrievable passage. `start`/`end` index into the document's `LoadedDocument.text`."""

    id: str
    collection: str
    doc_id: str
    version: str  # content hash of the source file that produced it
    source: str  # the file's path (absolute for CLI ingests, the upload name for API uploads)
    title: str
    text: str
    index: int  # position in the document, 0-based
    page: int | None
    section: str  # heading path joined with " > "
    start: int
    end: int
    hash: str  # hash of `text`
    file_type: str = ""
    tokens: int = 0


@dataclass(frozen=True, slots=True)
class DocumentSummary:
    """The summary level of the two-level index: one record per document."""

    id: str
    collection: str
    doc_id: str
    version: str
    source: str
    title: str
    text: str
    strategy: str  # extractive | llm
    chunk_count: int
    file_type: str = ""


@dataclass(slots=True)
class ScoredChunk:
    """A chunk with the score that ranked it; `scores` keeps each retriever's own score for debugging."""

    chunk: Chunk
    score: float
    scores: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ScoredSummary:
    summary: DocumentSummary
    score: float


class Evidence(BaseModel):
    """A passage handed to the LLM or cited by it. `id` is the `[n]` number used in the answer."""

    id: int
    doc_id: str
    source: str
    title: str
    page: int | None = None
    section: str = ""
    text: str
    score: float = 0.0
    chunk_ids: list[str] = Field(default_factory=list)


class Citation(Evidence):
    pass


class QueryResponse(BaseModel):
    """The response of `POST /v1/query` and `rag ask --json`."""

    answer: str = ""
    citations: list[Citation] = Field(default_factory=list)
    context: list[Evidence] = Field(default_factory=list)
    refused: bool = False
    uncited: bool = Field(False, description="the answer carries no valid citation")
    quoted: bool = Field(
        False, description="the model's answer was not supported by the sources; the best evidence is quoted"
    )
    groundedness: float | None = Field(
        None, description="share of answer sentences supported by the sources they cite (lexical support)"
    )
    rewritten_query: str = ""
    expanded_queries: list[str] = Field(
        default_factory=list, description="other phrasings searched too (retrieval.multi_query)"
    )
    hypothetical_answer: str = Field("", description="the LLM's guess searched too (retrieval.hyde)")
    timings: dict[str, float] = Field(default_factory=dict, description="seconds per stage and total")
    usage: dict[str, int] = Field(default_factory=dict, description="prompt_tokens, completion_tokens")
    collection: str = ""
