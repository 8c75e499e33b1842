"""The LLM interface (`rag.llm.base`) and its backends: llamacpp, ollama, transformers, openai.

    llm = build_llm(settings.llm)

See docs/llm.md for configuring each backend.
"""

from rag.llm.base import LLM, CancelToken, ChatMessage, Generation, GenerationOptions, ModelStatus
from rag.llm.factory import build_llm, describe, describe_settings

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
