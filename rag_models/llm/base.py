"""The one LLM interface every use in the project goes through (summaries, rewriting, answers).

llm = build_llm(settings.llm)
text = llm.generate([ChatMessage("user", "Hi")], GenerationOptions(max_new_tokens=32)).text
for delta in llm.stream(messages, cancel=token): ...
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Literal, Protocol, runtime_checkable

from rag_core.cancel import CancelToken

Role = Literal["system", "user", "assistant"]


@dataclass(frozen=True, slots=True)
class ChatMessage:
    role: Role
    content: str


@dataclass(frozen=True, slots=True)
class GenerationOptions:
    """Sampling options as Llama-3 users know them. Defaults suit grounded QA (near-greedy)."""

    temperature: float = 0.1
    top_p: float = 0.9
    top_k: int = 40
    repetition_penalty: float = 1.0
    max_new_tokens: int = 384
    stop: tuple[str, ...] = ()
    seed: int | None = None

    def with_(self, **changes: object) -> GenerationOptions:
        return replace(self, **changes)  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class Generation:
    text: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    finish_reason: str = "stop"  # stop | length | cancelled


@dataclass(frozen=True, slots=True)
class ModelStatus:
    backend: str
    model: str
    ready: bool
    detail: str = ""
    context_window: int = 0


class _StaticProtocolCheck(type(Protocol)):  # type: ignore[misc]
    """`isinstance(x, LLM)` looks attributes up statically, as Python 3.12 does. On 3.11 the default check
    evaluates properties, and `context_window` may load a model or call a server."""

    def __instancecheck__(cls, instance: object) -> bool:
        names = {n for n in vars(cls) if not n.startswith("_")} | set(vars(cls).get("__annotations__", {}))
        missing = object()
        return all(inspect.getattr_static(instance, name, missing) is not missing for name in names)


@runtime_checkable
class LLM(Protocol, metaclass=_StaticProtocolCheck):
    backend: str
    model_name: str

    @property
    def context_window(self) -> int: ...

    def count_tokens(self, messages: Sequence[ChatMessage]) -> int:
        """Prompt tokens for these messages with the chat template applied, by the model's tokenizer."""
        ...

    def generate(
        self,
        messages: Sequence[ChatMessage],
        options: GenerationOptions | None = None,
        cancel: CancelToken | None = None,
    ) -> Generation: ...

    def stream(
        self,
        messages: Sequence[ChatMessage],
        options: GenerationOptions | None = None,
        cancel: CancelToken | None = None,
    ) -> Iterator[str]: ...

    def status(self) -> ModelStatus: ...

    def warm_up(self) -> None: ...
