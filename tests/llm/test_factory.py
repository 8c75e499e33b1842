"""Backend selection, lazy imports and the status report used by `rag models`."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from rag_core.errors import BackendUnavailable
from rag_core.settings import LLMSettings, load_settings
from rag_models.llm import LLM, build_llm, describe, describe_settings
from rag_models.llm.base import ModelStatus
from rag_models.llm.hf import TransformersLLM
from rag_models.llm.llamacpp import LlamaCppLLM
from rag_models.llm.ollama import OllamaLLM
from rag_models.llm.openai_compat import OpenAICompatLLM


@pytest.mark.parametrize(
    ("backend", "model", "cls"),
    [
        ("llamacpp", "", LlamaCppLLM),
        ("ollama", "llama3", OllamaLLM),
        ("transformers", "meta-llama/Meta-Llama-3-8B-Instruct", TransformersLLM),
        ("openai", "meta-llama/Meta-Llama-3-8B-Instruct", OpenAICompatLLM),
    ],
)
def test_builds_each_backend_without_loading(backend: str, model: str, cls: type) -> None:
    llm = build_llm(LLMSettings(backend=backend, model=model))  # type: ignore[arg-type]
    assert isinstance(llm, cls) and isinstance(llm, LLM)
    assert llm.backend == backend


def test_environment_selects_the_backend(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAG_LLM__BACKEND", "ollama")
    monkeypatch.setenv("RAG_LLM__MODEL", "llama3:8b-instruct-q4_K_M")
    monkeypatch.setenv("RAG_LLM__BASE_URL", "http://gpu-box:11434")
    llm = build_llm(load_settings().llm)
    assert isinstance(llm, OllamaLLM)
    assert (llm.model_name, llm.base_url) == ("llama3:8b-instruct-q4_K_M", "http://gpu-box:11434")


@pytest.mark.parametrize(
    ("backend", "package", "hint"),
    [("llamacpp", "xllamacpp", "pip install xllamacpp"), ("ollama", "ollama", "pip install ollama")],
)
def test_missing_package_names_the_pip_command(
    monkeypatch: pytest.MonkeyPatch, backend: str, package: str, hint: str
) -> None:
    monkeypatch.setitem(sys.modules, package, None)
    with pytest.raises(BackendUnavailable) as info:
        build_llm(LLMSettings(backend=backend))  # type: ignore[arg-type]
    assert info.value.hint == hint
    status = describe_settings(LLMSettings(backend=backend))  # type: ignore[arg-type]
    assert not status.ready and hint in status.detail


def test_unknown_backend() -> None:
    with pytest.raises(BackendUnavailable, match="unknown LLM backend"):
        build_llm(LLMSettings.model_construct(backend="vllm"))


def test_describe_never_raises(tmp_path: Path) -> None:
    class Broken(LlamaCppLLM):
        def status(self) -> ModelStatus:
            raise RuntimeError("boom")

    status = describe(Broken(LLMSettings()))
    assert (status.ready, status.detail) == (False, "boom")
    status = describe_settings(LLMSettings(model=str(tmp_path / "missing.gguf")))
    assert not status.ready and "does not exist" in status.detail


def test_default_status_is_ready_without_loading() -> None:
    status = describe_settings(LLMSettings())
    assert status.ready and status.backend == "llamacpp" and "loads on first use" in status.detail
    assert status.context_window == 4096
