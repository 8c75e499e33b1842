"""The real `ollama` client against a local server speaking Ollama's documented HTTP API (conftest.py)."""

from __future__ import annotations

import time
from typing import Any

import pytest

from rag_core.cancel import CancelToken
from rag_core.errors import BackendUnavailable, ContextOverflow, ModelNotFound
from rag_core.settings import LLMSettings
from rag_models.llm.base import ChatMessage, GenerationOptions
from rag_models.llm.factory import build_llm, describe_settings
from rag_models.llm.ollama import OllamaLLM

QUESTION = [ChatMessage("system", "Be brief."), ChatMessage("user", "what is RAG")]


def make(server: Any, model: str = "llama3", **settings: Any) -> OllamaLLM:
    llm = build_llm(LLMSettings(backend="ollama", model=model, base_url=server.url, **settings))
    assert isinstance(llm, OllamaLLM)
    return llm


def chat_requests(server: Any) -> list[dict[str, Any]]:
    return [body for path, body in server.state.requests if path == "/api/chat"]


def test_defaults() -> None:
    llm = build_llm(LLMSettings(backend="ollama"))
    assert isinstance(llm, OllamaLLM)
    assert (llm.model_name, llm.base_url) == ("llama3", "http://127.0.0.1:11434")


def test_chat(ollama_server: Any) -> None:
    llm = make(ollama_server)
    result = llm.generate(
        QUESTION, GenerationOptions(temperature=0.0, seed=3, max_new_tokens=50, repetition_penalty=1.1)
    )
    assert result.text == "You said: what is RAG"
    assert result.finish_reason == "stop"
    assert result.completion_tokens == 5
    assert result.prompt_tokens == 4 + (9 // 4 + 5) + (11 // 4 + 5)
    body = chat_requests(ollama_server)[-1]
    assert body["model"] == "llama3" and body["stream"] is False
    assert body["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "what is RAG"},
    ]
    assert body["options"] == {
        "temperature": 0.0,
        "top_p": 0.9,
        "top_k": 40,
        "repeat_penalty": 1.1,
        "num_predict": 50,
        "num_ctx": 8192,
        "seed": 3,
    }


def test_streaming(ollama_server: Any) -> None:
    llm = make(ollama_server, "llama3:8b-instruct-q4_K_M")
    deltas = list(llm.stream(QUESTION))
    assert deltas == ["You", " said:", " what", " is", " RAG"]
    body = chat_requests(ollama_server)[-1]
    assert body["stream"] is True and body["options"]["num_ctx"] == 4096


def test_max_tokens_and_stop(ollama_server: Any) -> None:
    llm = make(ollama_server)
    result = llm.generate(QUESTION, GenerationOptions(max_new_tokens=2))
    assert (result.text, result.finish_reason) == ("You said:", "length")
    result = llm.generate(QUESTION, GenerationOptions(stop=(" is",)))
    assert (result.text, result.finish_reason) == ("You said: what", "stop")
    assert chat_requests(ollama_server)[-1]["options"]["stop"] == [" is"]
    assert "".join(llm.stream(QUESTION, GenerationOptions(stop=(" is",)))) == "You said: what"


def test_context_window_from_show(ollama_server: Any) -> None:
    assert make(ollama_server).context_window == 8192
    assert make(ollama_server, "llama3:8b-instruct-q4_K_M").context_window == 4096
    assert make(ollama_server, "llama3", context_window=2048).context_window == 2048


def test_overflow_is_caught_before_calling_ollama(ollama_server: Any) -> None:
    llm = make(ollama_server, "tiny")
    with pytest.raises(ContextOverflow):
        llm.generate([ChatMessage("user", "many words " * 200)], GenerationOptions(max_new_tokens=64))
    assert chat_requests(ollama_server) == []


def test_token_estimate_calibrates_on_reported_counts(ollama_server: Any) -> None:
    llm = make(ollama_server)
    long = [ChatMessage("user", "retrieval augmented generation " * 40)]
    before = llm.count_tokens(long)
    result = llm.generate(long, GenerationOptions(max_new_tokens=4))
    after = llm.count_tokens(long)
    assert result.prompt_tokens < before
    assert abs(after - result.prompt_tokens) < abs(before - result.prompt_tokens)
    assert after >= result.prompt_tokens


def test_missing_model(ollama_server: Any) -> None:
    llm = make(ollama_server, "mistral")
    with pytest.raises(ModelNotFound) as info:
        llm.generate(QUESTION)
    assert "ollama pull mistral" in info.value.hint
    assert "not found" in info.value.message
    with pytest.raises(ModelNotFound):
        list(make(ollama_server, "mistral", context_window=4096).stream(QUESTION))
    status = describe_settings(LLMSettings(backend="ollama", model="mistral", base_url=ollama_server.url))
    assert not status.ready and "ollama pull mistral" in status.detail


def test_server_down(closed_port: str) -> None:
    llm = build_llm(LLMSettings(backend="ollama", base_url=closed_port))
    with pytest.raises(BackendUnavailable) as info:
        llm.generate(QUESTION)
    assert "ollama serve" in info.value.hint
    with pytest.raises(BackendUnavailable):
        list(
            build_llm(LLMSettings(backend="ollama", base_url=closed_port, context_window=4096)).stream(
                QUESTION
            )
        )
    status = describe_settings(LLMSettings(backend="ollama", base_url=closed_port))
    assert not status.ready and "ollama serve" in status.detail


def test_status_and_warm_up(ollama_server: Any) -> None:
    llm = make(ollama_server)
    status = llm.status()
    assert status.ready and status.context_window == 8192 and ollama_server.url in status.detail
    llm.warm_up()
    assert chat_requests(ollama_server)[-1]["messages"] == []


def test_cancellation_closes_the_stream(ollama_server: Any) -> None:
    ollama_server.state.token_delay = 0.02
    ollama_server.state.extra_words = 200
    llm = make(ollama_server)
    cancel = CancelToken()
    deltas = []
    started = time.monotonic()
    for delta in llm.stream(QUESTION, cancel=cancel):
        deltas.append(delta)
        if len(deltas) == 3:
            cancel.cancel()
    assert deltas == ["You", " said:", " what"]
    assert time.monotonic() - started < 2
    deadline = time.monotonic() + 3
    while ollama_server.state.disconnects == 0 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert ollama_server.state.disconnects == 1
