"""`POST /v1/query`: answer a question (JSON, or Server-Sent Events with `"stream": true`)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from sse_starlette import EventSourceResponse

from api.auth import require_api_key
from api.schemas import QueryBody
from api.service import QueryService, first_event, sse_response
from api.state import StateDep
from rag_core.types import QueryResponse

router = APIRouter(tags=["query"], dependencies=[Depends(require_api_key)])

STREAM_DOC: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "JSON, or with `stream: true` Server-Sent Events: `delta` ({text}) events, one "
        "`result` event (the full response: answer, citations, context, refused, timings), then `done`; "
        "a failure after the stream started arrives as an `error` event",
        "content": {"text/event-stream": {}},
    }
}


@router.post("/v1/query", response_model=QueryResponse, responses=STREAM_DOC)
async def query(body: QueryBody, state: StateDep) -> QueryResponse | EventSourceResponse:
    """Answer a question from a collection, citing the passages used; `options.retrieval_only` returns
    the ranked context without generating (semantic search)."""
    service = QueryService(state)
    request = service.build(
        body.question,
        body.collection,
        [m.to_chat() for m in body.history],
        top_k=body.top_k,
        filters=body.filters,
        options=body.options,
    )
    if not body.stream:
        return await service.run(request)
    events = service.events(request)
    return sse_response(await first_event(events), events)
