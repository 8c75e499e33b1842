"""The `openai` client against a local OpenAI-compatible server (vLLM-like: /v1/models, SSE, /tokenize)."""

from __future__ import annotations

import time
from typing import Any

import pytest

from rag_core.cancel import CancelToken
from rag_core.errors import BackendUnavailable, ContextOverflow, ModelNotFound
from rag_core.settings import LLMSettings
from rag_models.llm.base import ChatMessage, GenerationOptions
from rag_models.llm.factory import build_llm, describe_settings
from rag_models.llm.openai_compat import OpenAICompatLLM

MODEL = "meta-llama/Meta-Llama-3-8B-Instruct"
QUESTION = [ChatMessage("system", "Be brief."), ChatMessage("user", "what is RAG")]


def make(server: Any, model: str = MODEL, **settings: Any) -> OpenAICompatLLM:
    settings.setdefault("api_key", "sk-test")
    llm = build_llm(LLMSettings(backend="openai", model=model, base_url=f"{server.url}/v1", **settings))
    assert isinstance(llm, OpenAICompatLLM)
    return llm


def completions(server: Any) -> list[dict[str, Any]]:
    return [body for path, body in server.state.requests if path == "/v1/chat/completions"]


def test_model_name_is_required() -> None:
    with pytest.raises(ModelNotFound, match="served model name"):
        build_llm(LLMSettings(backend="openai"))


def test_chat(openai_server: Any) -> None:
    llm = make(openai_server)
    result = llm.generate(
        QUESTION, GenerationOptions(temperature=0.0, max_new_tokens=50, seed=1, repetition_penalty=1.1)
    )
    assert (result.text, result.finish_reason, result.completion_tokens) == (
        "You said: what is RAG",
        "stop",
        5,
    )
    body = completions(openai_server)[-1]
    assert body["stream"] is False and body["model"] == MODEL
    assert (body["max_tokens"], body["temperature"], body["seed"]) == (50, 0.0, 1)
    assert (body["top_k"], body["repetition_penalty"]) == (40, 1.1)


def test_streaming_with_usage(openai_server: Any) -> None:
    llm = make(openai_server)
    assert list(llm.stream(QUESTION)) == ["You", " said:", " what", " is", " RAG"]
    assert completions(openai_server)[-1]["stream_options"] == {"include_usage": True}


def test_max_tokens_and_stop(openai_server: Any) -> None:
    llm = make(openai_server)
    result = llm.generate(QUESTION, GenerationOptions(max_new_tokens=3))
    assert (result.text, result.finish_reason) == ("You said: what", "length")
    assert "".join(llm.stream(QUESTION, GenerationOptions(stop=(" is",)))) == "You said: what"
    assert completions(openai_server)[-1]["stop"] == [" is"]


def test_context_window_from_models_listing(openai_server: Any) -> None:
    llm = make(openai_server)
    assert llm.context_window == 8192
    status = llm.status()
    assert status.ready and status.context_window == 8192


def test_token_counts_use_vllm_tokenize_when_available(openai_server: Any) -> None:
    openai_server.state.tokenize = True
    llm = make(openai_server)
    assert llm.count_tokens(QUESTION) == 4 + (9 // 4 + 5) + (11 // 4 + 5)
    tokenize = [body for path, body in openai_server.state.requests if path == "/tokenize"]
    assert tokenize[-1]["messages"][1] == {"role": "user", "content": "what is RAG"}


def test_token_counts_fall_back_to_the_estimate(openai_server: Any) -> None:
    llm = make(openai_server)
    first = llm.count_tokens(QUESTION)
    assert first == llm.estimator.estimate(QUESTION)
    llm.count_tokens(QUESTION)
    assert [p for p in openai_server.paths() if p == "/tokenize"] == ["/tokenize"]


def test_overflow_before_the_call(openai_server: Any) -> None:
    llm = make(openai_server, context_window=64)
    with pytest.raises(ContextOverflow):
        llm.generate([ChatMessage("user", "word " * 300)], GenerationOptions(max_new_tokens=8))
    assert completions(openai_server) == []


def test_missing_model(openai_server: Any) -> None:
    llm = make(openai_server, "llama3-typo", context_window=4096)
    with pytest.raises(ModelNotFound) as info:
        llm.generate(QUESTION)
    assert "/v1/models" in info.value.hint
    status = describe_settings(
        LLMSettings(backend="openai", model="x", base_url=f"{openai_server.url}/v1", api_key="sk-test")
    )
    assert not status.ready and "does not serve model" in status.detail


def test_wrong_api_key(openai_server: Any) -> None:
    with pytest.raises(BackendUnavailable) as info:
        make(openai_server, api_key="wrong", context_window=4096).generate(QUESTION)
    assert "RAG_LLM__API_KEY" in info.value.hint


def test_server_down(closed_port: str) -> None:
    llm = build_llm(
        LLMSettings(backend="openai", model=MODEL, base_url=f"{closed_port}/v1", context_window=4096)
    )
    with pytest.raises(BackendUnavailable) as info:
        llm.generate(QUESTION)
    assert "RAG_LLM__BASE_URL" in info.value.hint
    assert not describe_settings(llm.settings).ready


def test_cancellation_mid_stream(openai_server: Any) -> None:
    openai_server.state.token_delay = 0.02
    openai_server.state.extra_words = 200
    llm = make(openai_server)
    cancel = CancelToken()
    deltas = []
    started = time.monotonic()
    for delta in llm.stream(QUESTION, cancel=cancel):
        deltas.append(delta)
        if len(deltas) == 2:
            cancel.cancel()
    assert deltas == ["You", " said:"]
    assert time.monotonic() - started < 2
