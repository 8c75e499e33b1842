"""Completion token counts of a streamed generation (`CountedStream`), as the query pipeline reports them
in `usage` (issue 20: the OpenAI-compatible API said `completion_tokens: 0`)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from rag_core.cancel import CancelToken
from rag_models.llm.base import LLM, ChatMessage, GenerationOptions
from rag_models.llm.common import CountedStream, count_text_tokens

MESSAGES = [ChatMessage("user", "Name three colours of a rainbow, in one sentence.")]
GREEDY = GenerationOptions(temperature=0.0, max_new_tokens=40, seed=7)


class StreamOnly:
    """The real LLM behind a wrapper that overrides `stream` only (as the API tests' slow wrapper does)."""

    def __init__(self, inner: LLM) -> None:
        self.inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def stream(
        self,
        messages: Sequence[ChatMessage],
        options: GenerationOptions | None = None,
        cancel: CancelToken | None = None,
    ) -> Iterator[str]:
        yield from self.inner.stream(messages, options, cancel)


def test_the_backend_count_of_a_streamed_answer(smollm2: LLM) -> None:
    generation = CountedStream(smollm2, MESSAGES, GREEDY)
    deltas = list(generation)
    assert deltas and generation.text == "".join(deltas)
    reference = smollm2.generate(MESSAGES, GREEDY)
    assert generation.text == reference.text
    assert generation.completion_tokens == reference.completion_tokens > 0
    # llama.cpp counts the end-of-turn token it generated too
    assert generation.completion_tokens - count_text_tokens(smollm2, generation.text) in (0, 1)


def test_a_cut_answer_counts_every_token(smollm2: LLM) -> None:
    generation = CountedStream(smollm2, MESSAGES, GREEDY.with_(max_new_tokens=5))
    list(generation)
    assert generation.completion_tokens == 5


def test_a_wrapper_with_stream_only_is_counted_by_the_tokenizer(smollm2: LLM) -> None:
    wrapped = StreamOnly(smollm2)
    generation = CountedStream(wrapped, MESSAGES, GREEDY)  # type: ignore[arg-type]
    list(generation)
    assert generation.text == smollm2.generate(MESSAGES, GREEDY).text
    assert generation.completion_tokens == count_text_tokens(smollm2, generation.text) > 0


def test_text_tokens_by_the_model_tokenizer(smollm2: LLM) -> None:
    assert count_text_tokens(smollm2, "") == 0
    one = count_text_tokens(smollm2, "Paris")
    assert one >= 1
    assert count_text_tokens(smollm2, "Paris Paris Paris") > one
