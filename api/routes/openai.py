"""OpenAI-compatible chat completions: `model` is the collection; existing clients and SDKs work unchanged.

    client = OpenAI(base_url="http://127.0.0.1:8000/v1", api_key=KEY)
    client.chat.completions.create(model="handbook", messages=[{"role": "user", "content": "..."}])

The answer carries its citations as `[n]` in the text and as a `citations` field (on the last chunk
when streaming).
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any, Literal

from anyio import to_thread
from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field
from sse_starlette import EventSourceResponse, ServerSentEvent

from api.auth import require_api_key
from api.errors import stream_error_body
from api.service import Events, QueryService, first_event
from api.state import StateDep
from rag.query.pipeline import Delta, Final
from rag_core.errors import InvalidInputError
from rag_core.types import QueryResponse
from rag_models.llm.base import ChatMessage

router = APIRouter(prefix="/v1", tags=["openai"], dependencies=[Depends(require_api_key)])


class ChatCompletionMessage(BaseModel):
    model_config = ConfigDict(extra="allow")

    role: Literal["system", "user", "assistant", "developer", "tool"]
    content: str | list[dict[str, Any]] | None = None

    def text(self) -> str:
        if isinstance(self.content, list):
            return "".join(str(p.get("text", "")) for p in self.content if p.get("type") == "text")
        return self.content or ""


class ChatCompletionRequest(BaseModel):
    model_config = ConfigDict(extra="allow")

    model: str = Field(description="the collection to answer from")
    messages: list[ChatCompletionMessage] = Field(min_length=1)
    stream: bool = False
    stream_options: dict[str, Any] | None = None


def _split(messages: list[ChatCompletionMessage]) -> tuple[str, list[ChatMessage]]:
    if messages[-1].role != "user":
        raise InvalidInputError(
            "the last message must come from the user",
            hint="end `messages` with the question",
            http_status=422,
        )
    history = [ChatMessage(m.role, m.text()) for m in messages[:-1] if m.role in ("user", "assistant")]
    return messages[-1].text(), history


def _missing_tail(streamed: str, response: QueryResponse) -> str:
    """What the final answer adds to the streamed text: usually the `[n]` markers attached at the end."""
    if response.answer.startswith(streamed):
        return response.answer[len(streamed) :]
    markers = [f"[{c.id}]" for c in response.citations if f"[{c.id}]" not in streamed]
    return " " + "".join(markers) if markers else ""


def _citations(response: QueryResponse) -> list[dict[str, Any]]:
    return [c.model_dump() for c in response.citations]


def _completion(cid: str, created: int, response: QueryResponse) -> dict[str, Any]:
    prompt = response.usage.get("prompt_tokens", 0)
    completion = response.usage.get("completion_tokens", 0)
    return {
        "id": cid,
        "object": "chat.completion",
        "created": created,
        "model": response.collection,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": response.answer},
                "finish_reason": "stop",
                "logprobs": None,
            }
        ],
        "usage": {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
        },
        "citations": _citations(response),
        "refused": response.refused,
    }


@router.post("/chat/completions", response_model=None)
async def chat_completions(
    body: ChatCompletionRequest, state: StateDep
) -> dict[str, Any] | EventSourceResponse:
    """Answer the last user message from the collection named by `model`; earlier messages are history."""
    question, history = _split(body.messages)
    service = QueryService(state)
    request = service.build(question, body.model, history)
    cid = f"chatcmpl-{uuid.uuid4().hex}"
    created = int(time.time())
    if not body.stream:
        return _completion(cid, created, await service.run(request))
    events = service.events(request)
    first = await first_event(events)
    usage = bool((body.stream_options or {}).get("include_usage"))
    return EventSourceResponse(_chunks(cid, created, request.collection, first, events, usage), ping=15)


async def _chunks(
    cid: str, created: int, model: str, first: Delta | Final, events: Events, usage: bool
) -> AsyncIterator[ServerSentEvent]:
    def chunk(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> ServerSentEvent:
        body = {
            "id": cid,
            "object": "chat.completion.chunk",
            "created": created,
            "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}],
            **extra,
        }
        return ServerSentEvent(json.dumps(body, ensure_ascii=False))

    try:
        yield chunk({"role": "assistant", "content": ""})
        streamed = ""
        event: Delta | Final | None = first
        while event is not None:
            if isinstance(event, Delta):
                streamed += event.text
                yield chunk({"content": event.text})
            else:
                response = event.response
                tail = _missing_tail(streamed, response)
                if tail:
                    yield chunk({"content": tail})
                yield chunk({}, "stop", citations=_citations(response), refused=response.refused)
                if usage:
                    done = _completion(cid, created, response)
                    yield ServerSentEvent(
                        json.dumps(
                            {**done, "object": "chat.completion.chunk", "choices": []}, ensure_ascii=False
                        )
                    )
            event = await anext(events, None)
        yield ServerSentEvent("[DONE]")
    except Exception as exc:
        yield ServerSentEvent(
            json.dumps(stream_error_body(exc, "chat completion stream"), ensure_ascii=False)
        )
    finally:
        await events.aclose()


@router.get("/models")
async def models(state: StateDep) -> dict[str, Any]:
    """The collections, listed as models for OpenAI clients."""
    infos = await to_thread.run_sync(state.components.catalog.collections)
    return {
        "object": "list",
        "data": [
            {"id": i.name, "object": "model", "created": int(i.created), "owned_by": "rag"} for i in infos
        ],
    }
