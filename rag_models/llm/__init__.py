"""The LLM interface (`rag_models.llm.base`) and its backends: llamacpp, ollama, transformers, openai.

    llm = build_llm(settings.llm)

See docs/llm.md for configuring each backend.
"""

from rag_core.cancel import CancelToken
from rag_models.llm.base import LLM, ChatMessage, Generation, GenerationOptions, ModelStatus
from rag_models.llm.factory import build_llm, describe, describe_settings

__all__ = [
    "LLM",
    "CancelToken",
    "ChatMessage",
    "Generation",
    "GenerationOptions",
    "ModelStatus",
    "build_llm",
    "describe",
    "describe_settings",
]
