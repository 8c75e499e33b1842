"""Build the configured LLM and report whether it is usable:

    llm = build_llm(settings.llm)            # backend chosen by RAG_LLM__BACKEND, imported lazily
    describe_settings(settings.llm)          # ModelStatus for `rag models`, never raises

Backends are imported only when chosen; a missing package is a BackendUnavailable naming the pip command.
"""

from __future__ import annotations

import importlib

from rag_core.errors import BackendUnavailable, RagError
from rag_core.settings import LLMSettings
from rag_models.llm.base import LLM, ModelStatus
from rag_models.llm.common import describe_error

# backend -> (module, class, package to import, pip requirement)
BACKENDS: dict[str, tuple[str, str, str, str]] = {
    "llamacpp": ("rag_models.llm.llamacpp", "LlamaCppLLM", "xllamacpp", "xllamacpp"),
    "ollama": ("rag_models.llm.ollama", "OllamaLLM", "ollama", "ollama"),
    "transformers": ("rag_models.llm.hf", "TransformersLLM", "transformers", "transformers torch"),
    "openai": ("rag_models.llm.openai_compat", "OpenAICompatLLM", "openai", "openai"),
}


def build_llm(settings: LLMSettings) -> LLM:
    """The configured LLM; a missing backend package raises BackendUnavailable with the pip command."""
    try:
        module_name, class_name, package, requirement = BACKENDS[settings.backend]
    except KeyError:
        raise BackendUnavailable(
            f"unknown LLM backend {settings.backend!r}",
            hint=f"set RAG_LLM__BACKEND to one of {', '.join(BACKENDS)}",
        ) from None
    try:
        importlib.import_module(package)
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise BackendUnavailable(
            f"the {settings.backend} backend needs the {package!r} package ({exc})",
            hint=f"pip install {requirement}",
        ) from None
    llm: LLM = getattr(module, class_name)(settings)
    return llm


def describe(llm: LLM) -> ModelStatus:
    """`llm.status()`, with any unexpected failure reported as not ready instead of raised."""
    try:
        return llm.status()
    except Exception as exc:
        return ModelStatus(llm.backend, llm.model_name, False, describe_error(exc))


def describe_settings(settings: LLMSettings) -> ModelStatus:
    try:
        llm = build_llm(settings)
    except RagError as exc:
        return ModelStatus(settings.backend, settings.model or "(default)", False, describe_error(exc))
    return describe(llm)
