"""Request and response bodies of the REST API. Answers use `rag_core.types.QueryResponse` directly, the same
model `rag ask --json` prints."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from rag.query.request import Filters, Stage, epoch_seconds
from rag_core.types import Citation, QueryResponse
from rag_models.llm.base import ChatMessage, Role
from vectorstore.naming import NAME_RULE


class HistoryMessage(BaseModel):
    role: Role
    content: str

    def to_chat(self) -> ChatMessage:
        return ChatMessage(self.role, self.content)


class FiltersIn(BaseModel):
    source_prefix: str | None = Field(default=None, description="only sources starting with this")
    file_types: list[str] = Field(default_factory=list, description="only these file types, e.g. pdf, md")
    modified_after: datetime | None = Field(
        default=None,
        description="only files modified after this: an ISO 8601 date or time (UTC unless it names a "
        "time zone), or epoch seconds",
    )
    modified_before: datetime | None = Field(default=None, description="only files modified before this")

    def to_filters(self) -> Filters:
        return Filters(
            source_prefix=self.source_prefix,
            file_types=tuple(t.lower().lstrip(".") for t in self.file_types),
            modified_after=epoch_seconds(self.modified_after),
            modified_before=epoch_seconds(self.modified_before),
        )


class QueryOptions(BaseModel):
    retrieval_only: bool = Field(default=False, description="return the context without generating an answer")
    disabled: list[Stage] = Field(default_factory=list, description="pipeline stages to switch off")


class QueryBody(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"question": "How many vacation days do I get?", "collection": "default"}]
        }
    )

    question: str = Field(description="the question, in any language")
    collection: str | None = Field(default=None, description="collection to search; empty = default")
    history: list[HistoryMessage] = Field(default_factory=list, description="earlier turns, oldest first")
    stream: bool = Field(default=False, description="answer as Server-Sent Events: delta..., result, done")
    top_k: int | None = Field(default=None, ge=1, le=50, description="evidence passages handed to the LLM")
    filters: FiltersIn = Field(default_factory=FiltersIn)  # type: ignore[arg-type]
    options: QueryOptions = Field(default_factory=QueryOptions)  # type: ignore[arg-type]


class ConversationCreate(BaseModel):
    title: str = Field(default="", description="empty = taken from the first question")
    collection: str | None = Field(default=None, description="collection to ask; empty = default")


class RegenerateBody(BaseModel):
    stream: bool = False
    top_k: int | None = Field(default=None, ge=1, le=50)
    filters: FiltersIn = Field(default_factory=FiltersIn)  # type: ignore[arg-type]


class MessageBody(RegenerateBody):
    content: str = Field(description="the user's next question")


class Message(BaseModel):
    id: int
    role: Role
    content: str
    created: float
    refused: bool = False
    citations: list[Citation] = Field(default_factory=list)
    extra: dict[str, Any] = Field(default_factory=dict)


class ConversationSummary(BaseModel):
    id: str
    title: str
    collection: str
    created: float
    updated: float
    message_count: int = 0


class Conversation(BaseModel):
    id: str
    title: str
    collection: str
    created: float
    updated: float
    messages: list[Message] = Field(default_factory=list)


class MessageResult(QueryResponse):
    """A conversation turn: the answer plus the stored user and assistant messages."""

    conversation_id: str = ""
    question_message: Message | None = None
    message: Message | None = None


class CollectionCreate(BaseModel):
    name: str = Field(description=f"{NAME_RULE}; surrounding spaces are dropped")


class CollectionOut(BaseModel):
    name: str
    documents: int = Field(description="documents that are indexed (searchable)")
    failed: int = Field(0, description="files that failed to ingest and have no indexed version")
    chunks: int
    embedder: str
    created: float


class DocumentOut(BaseModel):
    doc_id: str
    name: str = Field(description="file name (uploads) or path relative to the ingested folder")
    source: str = Field(description="as citations show it: the same as `name`, never a server path")
    title: str
    file_type: str
    status: Literal["ready", "failed"]
    chunks: int
    size: int | None = None
    error: str | None = None
    ingested: float | None = None


class DocumentList(BaseModel):
    collection: str
    documents: int = Field(description="items whose status is ready")
    failed: int = Field(0, description="items whose status is failed")
    chunks: int
    items: list[DocumentOut]


class JobFile(BaseModel):
    name: str
    status: str
    error: str = ""
    chunks: int = 0
    doc_id: str = ""


class Job(BaseModel):
    id: str
    kind: Literal["ingest"] = "ingest"
    collection: str
    status: Literal["queued", "running", "done", "failed"]
    files_total: int
    files_done: int = 0
    current: str = ""
    files: list[JobFile] = Field(default_factory=list)
    report: dict[str, Any] | None = None
    error: str | None = None
    created: float
    started: float | None = None
    finished: float | None = None


class Status(BaseModel):
    status: str
    checks: dict[str, dict[str, Any]] = Field(default_factory=dict)
