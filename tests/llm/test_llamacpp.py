"""Real generation with the bundled SmolLM2-135M GGUF through llama.cpp (xllamacpp), on CPU."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from rag_core.cancel import CancelToken
from rag_core.errors import BackendError, ContextOverflow, ModelNotFound
from rag_core.settings import LLMSettings
from rag_models.llm.base import LLM, ChatMessage, GenerationOptions
from rag_models.llm.factory import build_llm, describe
from rag_models.llm.llamacpp import LlamaCppLLM

QUESTION = [
    ChatMessage("system", "Answer in one short sentence."),
    ChatMessage("user", "What is the capital of France?"),
]
GREEDY = GenerationOptions(temperature=0.0, max_new_tokens=24, seed=42)


def test_default_is_the_bundled_model(smollm2: LLM) -> None:
    assert isinstance(smollm2, LlamaCppLLM)
    assert smollm2.model_name.endswith("(bundled)")
    status = describe(smollm2)
    assert status.ready and status.backend == "llamacpp" and "loaded" in status.detail
    assert status.context_window == 4096


def test_context_window_is_the_trained_context_capped_on_cpu() -> None:
    assert build_llm(LLMSettings()).context_window == 4096
    assert build_llm(LLMSettings(gpu_layers=-1)).context_window == 8192
    assert build_llm(LLMSettings(context_window=1024)).context_window == 1024


def test_generates_an_answer(smollm2: LLM) -> None:
    result = smollm2.generate(QUESTION, GREEDY)
    assert "Paris" in result.text
    assert result.prompt_tokens == smollm2.count_tokens(QUESTION)
    assert 0 < result.completion_tokens <= 24
    assert result.finish_reason in ("stop", "length")


def test_greedy_generation_is_reproducible_and_stream_matches(smollm2: LLM) -> None:
    first = smollm2.generate(QUESTION, GREEDY).text
    deltas = list(smollm2.stream(QUESTION, GREEDY))
    assert len(deltas) > 1
    assert "".join(deltas) == first == smollm2.generate(QUESTION, GREEDY).text


def test_max_new_tokens(smollm2: LLM) -> None:
    prompt = [ChatMessage("user", "Write a long story about a dragon.")]
    result = smollm2.generate(prompt, GREEDY.with_(max_new_tokens=5))
    assert (result.finish_reason, result.completion_tokens) == ("length", 5)


def test_stop_sequence(smollm2: LLM) -> None:
    full = smollm2.generate(QUESTION, GREEDY).text
    word = "Paris"
    assert word in full
    result = smollm2.generate(QUESTION, GREEDY.with_(stop=(word,)))
    assert result.text == full[: full.index(word)]
    assert result.finish_reason == "stop"


def test_count_tokens_includes_the_chat_template(smollm2: LLM) -> None:
    bare = smollm2.count_tokens([ChatMessage("user", "Hi")])
    assert bare > 10
    assert smollm2.count_tokens([ChatMessage("user", "Hi " * 100)]) > bare + 90


def test_chat_template_comes_from_the_gguf(smollm2: LlamaCppLLM) -> None:
    prompt = smollm2.render_prompt(QUESTION)
    assert prompt == (
        "<|im_start|>system\nAnswer in one short sentence.<|im_end|>\n"
        "<|im_start|>user\nWhat is the capital of France?<|im_end|>\n<|im_start|>assistant\n"
    )


def test_cancellation_mid_stream(smollm2: LLM) -> None:
    cancel = CancelToken()
    deltas = []
    prompt = [ChatMessage("user", "Write a long story about a dragon.")]
    for delta in smollm2.stream(prompt, GREEDY.with_(max_new_tokens=200), cancel=cancel):
        deltas.append(delta)
        if len(deltas) == 3:
            cancel.cancel()
    assert len(deltas) == 3
    assert smollm2.generate(QUESTION, GREEDY).text


def test_context_overflow_before_the_call() -> None:
    llm = build_llm(LLMSettings(context_window=64))
    assert isinstance(llm, LlamaCppLLM)
    with pytest.raises(ContextOverflow) as info:
        llm.generate([ChatMessage("user", "tell me everything " * 20)], GenerationOptions(max_new_tokens=16))
    assert info.value.prompt_tokens > 48 and info.value.limit == 48
    assert llm.last_timings == {}


def test_two_threads_generating_at_once_both_succeed(smollm2: LLM) -> None:
    results: dict[int, str] = {}
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            results[i] = "".join(smollm2.stream(QUESTION, GREEDY))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert results[0] == results[1] and "Paris" in results[0]


def test_missing_model_file(tmp_path: Path) -> None:
    llm = build_llm(LLMSettings(model=str(tmp_path / "nope.gguf")))
    status = describe(llm)
    assert not status.ready and "does not exist" in status.detail
    with pytest.raises(ModelNotFound) as info:
        llm.generate(QUESTION)
    assert "RAG_LLM__MODEL" in info.value.hint


def test_not_a_gguf_file(tmp_path: Path) -> None:
    path = tmp_path / "model.gguf"
    path.write_bytes(b"<html>404</html>")
    with pytest.raises(ModelNotFound, match="not a GGUF file"):
        build_llm(LLMSettings(model=str(path))).warm_up()


def test_truncated_gguf_fails_with_a_typed_error(tmp_path: Path, llama3_gguf: Path) -> None:
    path = tmp_path / "cut.gguf"
    path.write_bytes(llama3_gguf.read_bytes()[:-5000])
    with pytest.raises(BackendError) as info:
        build_llm(LLMSettings(model=str(path))).warm_up()
    assert "RAG_LLM__LOG_VERBOSITY" in info.value.hint
