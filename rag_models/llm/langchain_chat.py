"""Our LLMs as a LangChain chat model, so they compose with LCEL:

    chain = prompt | LangChainChatModel(llm=build_llm(settings.llm)) | StrOutputParser()

Options come from `options` (else the LLM's defaults); `stop`, and the keyword arguments temperature,
top_p, top_k, repetition_penalty, max_new_tokens and seed (e.g. via `.bind(...)`), override them per call.
A `CancelToken` can be passed as `cancel=`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import fields
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from pydantic import ConfigDict

from rag_core.cancel import CancelToken
from rag_core.errors import InvalidInputError
from rag_models.llm.base import LLM, ChatMessage, GenerationOptions, Role

_ROLES: dict[str, Role] = {
    "system": "system",
    "human": "user",
    "user": "user",
    "ai": "assistant",
    "assistant": "assistant",
}
_OPTION_NAMES = {f.name for f in fields(GenerationOptions)}


def to_chat_messages(messages: Sequence[BaseMessage]) -> list[ChatMessage]:
    converted = []
    for message in messages:
        role = _ROLES.get(getattr(message, "role", None) or message.type)
        if role is None:
            raise InvalidInputError(
                f"{message.type} messages are not supported", hint="use system, human and ai messages"
            )
        converted.append(ChatMessage(role, message.text))
    return converted


class LangChainChatModel(BaseChatModel):
    """A LangChain `BaseChatModel` wrapping one of our `LLM`s (any backend)."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    llm: Any
    options: GenerationOptions | None = None

    @property
    def _llm_type(self) -> str:
        return f"rag-{self.llm.backend}"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"backend": self.llm.backend, "model": self.llm.model_name}

    def _options(self, stop: list[str] | None, kwargs: dict[str, Any]) -> GenerationOptions:
        base = self.options or getattr(self.llm, "defaults", None) or GenerationOptions()
        changes = {k: v for k, v in kwargs.items() if k in _OPTION_NAMES and k != "stop"}
        if stop:
            changes["stop"] = tuple(stop)
        return base.with_(**changes) if changes else base

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        llm: LLM = self.llm
        result = llm.generate(to_chat_messages(messages), self._options(stop, kwargs), kwargs.get("cancel"))
        usage = {
            "input_tokens": result.prompt_tokens,
            "output_tokens": result.completion_tokens,
            "total_tokens": result.prompt_tokens + result.completion_tokens,
        }
        message = AIMessage(
            content=result.text,
            usage_metadata=usage,  # type: ignore[arg-type]
            response_metadata={"finish_reason": result.finish_reason, "model_name": llm.model_name},
        )
        return ChatResult(generations=[ChatGeneration(message=message)])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        llm: LLM = self.llm
        cancel: CancelToken | None = kwargs.get("cancel")
        for delta in llm.stream(to_chat_messages(messages), self._options(stop, kwargs), cancel):
            chunk = ChatGenerationChunk(message=AIMessageChunk(content=delta))
            if run_manager is not None:
                run_manager.on_llm_new_token(delta, chunk=chunk)
            yield chunk

    def get_num_tokens_from_messages(
        self, messages: list[BaseMessage], tools: Sequence[Any] | None = None
    ) -> int:
        return int(self.llm.count_tokens(to_chat_messages(messages)))
