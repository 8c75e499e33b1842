"""What a caller asks the query pipeline for."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

from rag_core.errors import InvalidInputError, LimitExceeded
from rag_models.llm.base import ChatMessage

Stage = Literal[
    "rewrite", "expand", "summaries", "lexical", "dense", "links", "rerank", "corroboration", "compression"
]
STAGES: tuple[Stage, ...] = (
    "rewrite",
    "expand",
    "summaries",
    "lexical",
    "dense",
    "links",
    "rerank",
    "corroboration",
    "compression",
)


def checked_question(question: str, max_chars: int) -> str:
    """The question without surrounding space; an error for an empty one or one over `max_chars`
    (the setting RAG_API__MAX_QUESTION_CHARS, for the API and in-process callers alike)."""
    stripped = question.strip()
    if not stripped:
        raise InvalidInputError("the question is empty", hint="ask a question", http_status=422)
    if len(stripped) > max_chars:
        raise LimitExceeded(
            f"the question is {len(stripped)} characters long; the limit is {max_chars}",
            hint="shorten the question, or raise RAG_API__MAX_QUESTION_CHARS",
        )
    return stripped


@dataclass(frozen=True, slots=True)
class Filters:
    """Restrict every search to matching documents. All given conditions must hold."""

    source_prefix: str | None = None  # a path prefix of the source file (absolute or as ingested)
    file_types: tuple[str, ...] = ()  # e.g. ("pdf", "md")
    modified_after: float | None = None  # file modification time, epoch seconds
    modified_before: float | None = None

    @property
    def empty(self) -> bool:
        return not (self.source_prefix or self.file_types or self.modified_after or self.modified_before)


def epoch_seconds(moment: datetime | None) -> float | None:
    """A date filter's bound in epoch seconds; a time without a time zone is UTC."""
    if moment is None:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


@dataclass(frozen=True, slots=True)
class QueryRequest:
    question: str
    collection: str
    history: tuple[ChatMessage, ...] = ()
    top_k: int | None = None  # context items handed to the LLM; None = settings
    filters: Filters = field(default_factory=Filters)
    retrieval_only: bool = False  # stop after compression and return the context
    disabled: frozenset[Stage] = frozenset()  # stages switched off (ablation)
