"""The shared generation path: overflow check before any backend call, stops, cancel, queueing, timeouts."""

from __future__ import annotations

import threading
import time
from collections.abc import Generator, Sequence

import pytest

from rag_core.cancel import CancelToken
from rag_core.errors import ContextOverflow, GenerationTimeout, InvalidInputError, RequestTimeout
from rag_core.settings import LLMSettings
from rag_models.llm.base import LLM, ChatMessage, GenerationOptions, ModelStatus
from rag_models.llm.common import (
    END_OF_TURN_MARKERS,
    BaseLLM,
    Chunk,
    StopFilter,
    TokenEstimator,
    default_options,
)

USER = [ChatMessage("user", "hello there")]


class ScriptedLLM(BaseLLM):
    """Yields `words` one by one, `delay` seconds apart; records every call that reaches the backend."""

    backend = "scripted"
    model_name = "scripted"

    def __init__(
        self, settings: LLMSettings, words: Sequence[str], *, window: int = 1000, delay: float = 0.0
    ):
        super().__init__(settings)
        self.words, self.window, self.delay = list(words), window, delay
        self.calls = 0
        self.active = 0
        self.max_active = 0

    def _model_window(self) -> int:
        return self.window

    def _count_tokens(self, messages: Sequence[ChatMessage]) -> int:
        return sum(len(m.content.split()) for m in messages) + 3

    def status(self) -> ModelStatus:
        return ModelStatus(self.backend, self.model_name, True, context_window=self.window)

    def _chunks(
        self,
        messages: Sequence[ChatMessage],
        options: GenerationOptions,
        cancel: CancelToken,
        streaming: bool,
    ) -> Generator[Chunk, None, None]:
        self.calls += 1
        self.active += 1
        self.max_active = max(self.max_active, self.active)
        try:
            for i, word in enumerate(self.words):
                if cancel.cancelled:
                    return
                if i >= options.max_new_tokens:
                    yield Chunk(finish_reason="length", completion_tokens=i)
                    return
                time.sleep(self.delay)
                yield Chunk(text=word)
            yield Chunk(finish_reason="stop", completion_tokens=len(self.words))
        finally:
            self.active -= 1


def test_scripted_llm_satisfies_the_protocol() -> None:
    assert isinstance(ScriptedLLM(LLMSettings(), []), LLM)


def test_defaults_come_from_settings() -> None:
    options = default_options(LLMSettings(temperature=0.0, max_new_tokens=12, seed=7, top_k=5))
    assert (options.temperature, options.max_new_tokens, options.seed, options.top_k) == (0.0, 12, 7, 5)
    assert ScriptedLLM(LLMSettings(max_new_tokens=12), []).defaults.max_new_tokens == 12


def test_generate_and_stream_agree() -> None:
    llm = ScriptedLLM(LLMSettings(), ["a", "b", "c"])
    result = llm.generate(USER)
    assert (result.text, result.finish_reason, result.prompt_tokens, result.completion_tokens) == (
        "abc",
        "stop",
        5,
        3,
    )
    assert list(llm.stream(USER)) == ["a", "b", "c"]


def test_max_new_tokens_reports_length() -> None:
    result = ScriptedLLM(LLMSettings(), list("abcdef")).generate(USER, GenerationOptions(max_new_tokens=2))
    assert (result.text, result.finish_reason) == ("ab", "length")


def test_overflow_is_raised_before_the_backend_is_called() -> None:
    llm = ScriptedLLM(LLMSettings(), ["x"], window=50)
    long = [ChatMessage("user", "word " * 40)]
    with pytest.raises(ContextOverflow) as info:
        llm.generate(long, GenerationOptions(max_new_tokens=10))
    assert llm.calls == 0
    assert (info.value.prompt_tokens, info.value.limit) == (43, 40)
    assert "reserved for the answer" in info.value.hint
    with pytest.raises(ContextOverflow):
        list(llm.stream(long, GenerationOptions(max_new_tokens=10)))
    assert llm.calls == 0
    assert llm.generate(long, GenerationOptions(max_new_tokens=7)).text == "x"


def test_empty_messages_are_rejected() -> None:
    with pytest.raises(InvalidInputError):
        ScriptedLLM(LLMSettings(), ["x"]).generate([])


def test_stop_sequences_cut_text_split_across_deltas() -> None:
    llm = ScriptedLLM(LLMSettings(), ["The answer", " is 4", "2.\nQuest", "ion: next"])
    result = llm.generate(USER, GenerationOptions(stop=("\nQuestion:",)))
    assert (result.text, result.finish_reason) == ("The answer is 42.", "stop")
    assert "".join(llm.stream(USER, GenerationOptions(stop=("\nQuestion:",)))) == "The answer is 42."


def test_end_of_turn_markers_stop_in_process_backends() -> None:
    assert "<|eot_id|>" in END_OF_TURN_MARKERS
    llm = ScriptedLLM(LLMSettings(), ["Paris", ".", "<|eot", "_id|>", "<|start_header_id|>user"])
    llm.extra_stops = END_OF_TURN_MARKERS
    assert llm.generate(USER).text == "Paris."


@pytest.mark.parametrize(
    ("deltas", "expected"),
    [
        (["abc"], ["abc"]),
        (["ab<", "|eot_id|>zz"], ["ab", ""]),
        (["a<|e", "nd", "_of_text|>"], ["a", "", ""]),
        (["<|", "im_start|>x"], ["", "<|im_start|>x"]),
    ],
)
def test_stop_filter_holds_back_only_possible_stop_prefixes(deltas: list[str], expected: list[str]) -> None:
    stop_filter = StopFilter(END_OF_TURN_MARKERS)
    assert [stop_filter.feed(d) for d in deltas] == expected


def test_stop_filter_flushes_an_unfinished_prefix() -> None:
    stop_filter = StopFilter(["STOP"])
    assert stop_filter.feed("go ST") == "go "
    assert stop_filter.flush() == "ST"


def test_cancellation_mid_stream() -> None:
    llm = ScriptedLLM(LLMSettings(), [f"w{i} " for i in range(50)], delay=0.01)
    cancel = CancelToken()
    received = []
    for delta in llm.stream(USER, cancel=cancel):
        received.append(delta)
        if len(received) == 3:
            cancel.cancel()
    assert received == ["w0 ", "w1 ", "w2 "]
    assert llm.active == 0
    cancel = CancelToken()
    cancel.cancel()
    assert llm.generate(USER, cancel=cancel).finish_reason == "cancelled"


def test_abandoned_stream_releases_the_backend() -> None:
    llm = ScriptedLLM(LLMSettings(), ["a", "b", "c"])
    llm.serialize = True
    stream = llm.stream(USER)
    assert next(stream) == "a"
    stream.close()
    assert llm.active == 0
    assert llm.generate(USER).text == "abc"


def test_timeout_raises_generation_timeout() -> None:
    llm = ScriptedLLM(LLMSettings(timeout_s=0.05), ["a"] * 100, delay=0.01)
    with pytest.raises(GenerationTimeout) as info:
        llm.generate(USER)
    assert "RAG_LLM__TIMEOUT_S" in info.value.hint


def test_the_request_deadline_reaches_the_backend_and_raises_the_requests_error() -> None:
    llm = ScriptedLLM(LLMSettings(timeout_s=60), ["a"] * 200, delay=0.01)
    request = CancelToken(0.05, RequestTimeout("the request took too long", hint="raise the limit"))
    started = time.monotonic()
    with pytest.raises(RequestTimeout):
        llm.generate(USER, cancel=request)
    assert time.monotonic() - started < 1.5
    assert llm.active == 0


def test_the_models_own_shorter_limit_wins_over_a_later_request_deadline() -> None:
    llm = ScriptedLLM(LLMSettings(timeout_s=0.05), ["a"] * 200, delay=0.01)
    request = CancelToken(60, RequestTimeout("the request took too long"))
    with pytest.raises(GenerationTimeout):
        llm.generate(USER, cancel=request)
    assert not request.cancelled


def test_a_queued_request_times_out_by_its_deadline_while_the_model_is_busy() -> None:
    llm = ScriptedLLM(LLMSettings(), ["a"] * 40, delay=0.02)
    llm.serialize = True
    first = threading.Thread(target=llm.generate, args=(USER,))
    first.start()
    time.sleep(0.05)
    with pytest.raises(RequestTimeout):
        llm.generate(USER, cancel=CancelToken(0.1, RequestTimeout("too long")))
    first.join()
    assert llm.calls == 1


def test_a_prompt_is_tokenised_once_however_often_it_is_counted() -> None:
    llm = ScriptedLLM(LLMSettings(), ["a"])
    counted: list[int] = []
    inner = llm._count_tokens
    llm._count_tokens = lambda messages: counted.append(1) or inner(messages)  # type: ignore[method-assign]
    assert llm.count_tokens(USER) == llm.count_tokens(list(USER))
    result = llm.generate(USER)
    assert result.prompt_tokens == llm.count_tokens(USER)
    assert len(counted) == 1
    llm.count_tokens([ChatMessage("user", "something else")])
    assert len(counted) == 2


def test_in_process_models_run_one_generation_at_a_time() -> None:
    llm = ScriptedLLM(LLMSettings(), ["a", "b", "c"], delay=0.02)
    llm.serialize = True
    results: list[str] = []
    threads = [threading.Thread(target=lambda: results.append(llm.generate(USER).text)) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == ["abc"] * 3
    assert llm.max_active == 1


def test_queued_request_can_be_cancelled_while_waiting() -> None:
    llm = ScriptedLLM(LLMSettings(), ["a"] * 30, delay=0.02)
    llm.serialize = True
    first = threading.Thread(target=llm.generate, args=(USER,))
    first.start()
    time.sleep(0.05)
    cancel = CancelToken()
    threading.Timer(0.05, cancel.cancel).start()
    result = llm.generate(USER, cancel=cancel)
    first.join()
    assert (result.text, result.finish_reason) == ("", "cancelled")
    assert llm.calls == 1


def test_token_estimator_counts_cjk_per_character_and_calibrates() -> None:
    estimator = TokenEstimator()
    english = [ChatMessage("user", "a" * 350)]
    chinese = [ChatMessage("user", "中文检索" * 25)]
    assert estimator.estimate(english) == 100 + 16
    assert estimator.estimate(chinese) == 100 + 16
    estimator.observe(english, 58)
    assert 0.9 * 116 <= estimator.estimate(english) < 116
    estimator.observe(english, 300)
    assert estimator.estimate(english) > 116
