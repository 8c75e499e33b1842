"""Conversations for the chatbot: the server keeps the history and uses it to rewrite follow-ups."""

from __future__ import annotations

from anyio import to_thread
from fastapi import APIRouter, Depends, Response
from sse_starlette import EventSourceResponse

from api.auth import require_api_key
from api.routes.query import STREAM_DOC
from api.schemas import (
    Conversation,
    ConversationCreate,
    ConversationSummary,
    Message,
    MessageBody,
    MessageResult,
    RegenerateBody,
)
from api.service import QueryService, first_event, public_sources, sse_response
from api.state import AppState, StateDep
from rag_core.types import QueryResponse

router = APIRouter(
    prefix="/v1/conversations", tags=["conversations"], dependencies=[Depends(require_api_key)]
)


@router.post("", status_code=201, response_model=Conversation)
async def create_conversation(body: ConversationCreate, state: StateDep) -> Conversation:
    collection = body.collection or state.settings.collection
    return await to_thread.run_sync(state.conversations.create, body.title, collection)


@router.get("", response_model=list[ConversationSummary])
async def list_conversations(state: StateDep) -> list[ConversationSummary]:
    return await to_thread.run_sync(state.conversations.summaries)


@router.get("/{conversation_id}", response_model=Conversation)
async def get_conversation(conversation_id: str, state: StateDep) -> Conversation:
    def work() -> Conversation:
        conversation = state.conversations.get(conversation_id)
        # Answers stored before sources were made relative may still hold server paths.
        cited = [c for m in conversation.messages for c in m.citations]
        public_sources(state, conversation.collection, cited)
        return conversation

    return await to_thread.run_sync(work)


@router.delete("/{conversation_id}", status_code=204)
async def delete_conversation(conversation_id: str, state: StateDep) -> Response:
    await to_thread.run_sync(state.conversations.delete, conversation_id)
    return Response(status_code=204)


@router.post("/{conversation_id}/messages", response_model=MessageResult, responses=STREAM_DOC)
async def post_message(
    conversation_id: str, body: MessageBody, state: StateDep
) -> MessageResult | EventSourceResponse:
    """Ask the next question. Earlier turns rewrite it into a standalone query (e.g. "and in 2023?")."""
    return await _answer(state, conversation_id, body, body.content, None)


@router.post("/{conversation_id}/regenerate", response_model=MessageResult, responses=STREAM_DOC)
async def regenerate(
    conversation_id: str, body: RegenerateBody, state: StateDep
) -> MessageResult | EventSourceResponse:
    """Answer the last question again (say, after adding documents). The new answer replaces the answers
    after that question once it is complete; a failed or cancelled one leaves them as they were.
    `question_message` is the existing question. 422 when the conversation has no question yet."""
    question = await to_thread.run_sync(state.conversations.last_question, conversation_id)
    return await _answer(state, conversation_id, body, question.content, question)


async def _answer(
    state: AppState, conversation_id: str, body: RegenerateBody, content: str, asked: Message | None
) -> MessageResult | EventSourceResponse:
    store = state.conversations
    conversation = await to_thread.run_sync(store.get, conversation_id)
    limit = state.settings.api.history_messages
    before = asked.id if asked else None
    history = await to_thread.run_sync(lambda: store.history(conversation_id, limit, before))
    service = QueryService(state)
    request = service.build(content, conversation.collection, history, top_k=body.top_k, filters=body.filters)
    if body.stream:
        events = service.events(request)
        first = await first_event(events)
    else:
        answered = await service.run(request)
    question = asked or await to_thread.run_sync(lambda: store.add_message(conversation_id, "user", content))

    async def finish(response: QueryResponse) -> MessageResult:
        answer = await to_thread.run_sync(
            lambda: store.add_message(
                conversation_id,
                "assistant",
                response.answer,
                refused=response.refused,
                citations=response.citations,
                extra={"rewritten_query": response.rewritten_query, "timings": response.timings},
                replacing_after=before,
            )
        )
        return MessageResult(
            **response.model_dump(),
            conversation_id=conversation_id,
            question_message=question,
            message=answer,
        )

    if body.stream:
        return sse_response(first, events, finish)
    return await finish(answered)
