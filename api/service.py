"""Answering through the query pipeline for the routes: limits, worker threads, metrics, SSE.

service = QueryService(state)
request = service.build("How many vacation days?", "handbook")
response = await service.run(request)                    # QueryResponse
events = service.events(request)                         # Delta..., Final, produced in a thread
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Iterator, Sequence
from pathlib import Path

from anyio import to_thread
from pydantic import BaseModel
from sse_starlette import EventSourceResponse, ServerSentEvent

from api.errors import stream_error_body
from api.schemas import FiltersIn, QueryOptions
from api.state import AppState
from api.streaming import call_in_thread, iterate_in_thread, request_deadline
from rag.query.pipeline import Delta, Final
from rag.query.request import QueryRequest
from rag_core.errors import RagError
from rag_core.types import Evidence, QueryResponse
from rag_models.llm.base import ChatMessage
from vectorstore.records import DocumentRow

log = logging.getLogger("rag.api")

Event = Delta | Final
Events = AsyncGenerator[Event, None]
Finish = Callable[[QueryResponse], Awaitable[BaseModel]]
PING_SECONDS = 15


class QueryService:
    def __init__(self, state: AppState) -> None:
        self.state = state
        self.settings = state.settings

    def build(
        self,
        question: str,
        collection: str | None,
        history: Sequence[ChatMessage] = (),
        *,
        top_k: int | None = None,
        filters: FiltersIn | None = None,
        options: QueryOptions | None = None,
    ) -> QueryRequest:
        options = options or QueryOptions()
        return QueryRequest(
            question=question,
            collection=collection or self.settings.collection,
            history=tuple(history),
            top_k=top_k,
            filters=(filters or FiltersIn()).to_filters(),
            retrieval_only=options.retrieval_only,
            disabled=frozenset(options.disabled),
        )

    async def events(self, request: QueryRequest) -> Events:
        """The pipeline's events, produced in a worker thread; stopping early cancels the generation."""
        cancel = request_deadline(self.settings.api.request_timeout_s)
        components = self.state.components

        def produce() -> Iterator[Event]:
            return components.query_pipeline().stream(request, cancel)

        inner = iterate_in_thread(produce, cancel)
        try:
            async for event in inner:
                if isinstance(event, Final):
                    event = Final(await self._finished(request, event.response))
                yield event
        finally:
            cancel.cancel()
            await inner.aclose()

    async def run(self, request: QueryRequest) -> QueryResponse:
        """The whole response, the stages called in a worker thread (no streaming)."""
        cancel = request_deadline(self.settings.api.request_timeout_s)
        components = self.state.components
        response = await call_in_thread(lambda: components.query_pipeline().run(request, cancel), cancel)
        return await self._finished(request, response)

    async def _finished(self, request: QueryRequest, response: QueryResponse) -> QueryResponse:
        self.state.metrics.observe_query(response, request.retrieval_only)
        return await to_thread.run_sync(self.public, response)

    def public(self, response: QueryResponse) -> QueryResponse:
        """Sources as users know them: the path relative to the folder given to `rag ingest`, or the file
        name of an upload; never a path on the server. The catalog keeps the absolute path (the key of
        incremental ingest); `doc_id` still names the document (its file: GET .../documents/{doc_id}/file)."""
        public_sources(self.state, response.collection, [*response.context, *response.citations])
        return response


def public_sources(state: AppState, collection: str, items: Sequence[Evidence]) -> None:
    """Replace each item's `source` by what users see (see QueryService.public). Blocking (catalog)."""
    if not items:
        return
    try:
        info = state.components.index.collection(collection)
    except RagError:
        info = None
    shown: dict[str, str] = {}
    for item in items:
        if item.doc_id not in shown:
            row = state.components.catalog.document(info.name, item.doc_id) if info else None
            shown[item.doc_id] = public_source(item.source, row)
        item.source = shown[item.doc_id]


def public_source(source: str, row: DocumentRow | None) -> str:
    """`row.relpath` for the document stored at `source`; the bare file name when the catalog no longer
    knows it (deleted meanwhile)."""
    if row is not None and row.source == source and row.relpath:
        return row.relpath
    return Path(source).name or source


async def first_event(events: Events) -> Event:
    """Wait for the first event, so errors before any output (unknown collection, store down) still get
    their HTTP status instead of a 200 stream carrying an error event."""
    return await anext(events)


def sse_response(first: Event, events: Events, finish: Finish | None = None) -> EventSourceResponse:
    """`delta` events with text, one `result` event (the full response), then `done`; or `error`."""

    async def stream() -> AsyncIterator[ServerSentEvent]:
        try:
            event: Event | None = first
            while event is not None:
                if isinstance(event, Delta):
                    yield ServerSentEvent(json.dumps({"text": event.text}, ensure_ascii=False), event="delta")
                else:
                    payload: BaseModel = await finish(event.response) if finish else event.response
                    yield ServerSentEvent(payload.model_dump_json(), event="result")
                event = await anext(events, None)
            yield ServerSentEvent("{}", event="done")
        except Exception as exc:
            body = stream_error_body(exc, "query stream")
            yield ServerSentEvent(json.dumps(body, ensure_ascii=False), event="error")
        finally:
            await events.aclose()

    return EventSourceResponse(stream(), ping=PING_SECONDS)
