"""Where each configured model comes from, and whether it can run offline: without loading it and without
any network access (the Hugging Face cache is read from disk). `rag models` prints it.

    llm_availability(settings.llm)              # Availability(where="bundled", offline=True, detail=path)
    embedder_availability(settings.embedding)   # "hf-cache", "download", "local", "missing", ...
    reranker_availability(settings.rerank)      # "built-in" when no cross-encoder is configured
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from rag_core.errors import ModelNotFound
from rag_core.query_settings import RerankSettings
from rag_core.settings import EmbeddingSettings, LLMSettings
from rag_models import bundled
from rag_models.bundled import BUNDLED_E5, BUNDLED_MINILM
from rag_models.e5_bundled import e5_weights_file

Where = Literal["bundled", "built-in", "local", "hf-cache", "download", "missing", "server"]

WEIGHTS = (
    "model.safetensors",
    "model.safetensors.index.json",
    "pytorch_model.bin",
    "pytorch_model.bin.index.json",
)
_REPO_ID = re.compile(r"^[\w.-]+(/[\w.-]+)?$")
_LABELS: dict[Where, str] = {
    "bundled": "bundled, available offline",
    "built-in": "built in, no model file",
    "local": "local, available offline",
    "hf-cache": "in the local Hugging Face cache, available offline",
    "download": "needs a download",
    "missing": "missing",
    "server": "on a server",
}


@dataclass(frozen=True, slots=True)
class Availability:
    where: Where
    detail: str

    @property
    def offline(self) -> bool | None:
        """True when the model is on this machine; None for a server's model (ask the server)."""
        if self.where == "server":
            return None
        return self.where in ("bundled", "built-in", "local", "hf-cache")

    def describe(self) -> str:
        return f"{_LABELS[self.where]}: {self.detail}" if self.detail else _LABELS[self.where]

    def as_dict(self) -> dict[str, object]:
        return {"where": self.where, "offline": self.offline, "detail": self.detail}


def _cache_dir() -> str:
    try:
        from huggingface_hub import constants
    except ImportError:  # pragma: no cover - a dependency of sentence-transformers
        return "the Hugging Face cache"
    return str(constants.HF_HUB_CACHE)


def _cached(repo_id: str, filename: str) -> Path | None:
    from huggingface_hub import try_to_load_from_cache

    found = try_to_load_from_cache(repo_id, filename)
    return Path(found) if isinstance(found, str) else None


def hf_model(ref: str, *, files: tuple[str, ...] = (), aliases: tuple[str, ...] = ()) -> Availability:
    """A local path or a Hugging Face id: on disk, in the cache (config and weights, or `files`), or not.
    `aliases` are other ids the loader tries (sentence-transformers/NAME for a bare name)."""
    path = Path(ref).expanduser()
    if path.exists():
        return Availability("local", str(path.resolve()))
    if not _REPO_ID.match(ref):
        return Availability("missing", f"{path} does not exist and is not a Hugging Face model id")
    for repo in (ref, *aliases):
        config = _cached(repo, files[0] if files else "config.json")
        if config is None:
            continue
        snapshot = config.parent
        if files and all(_cached(repo, name) for name in files[1:]):
            return Availability("hf-cache", str(snapshot))
        if not files and any(_cached(repo, name) for name in WEIGHTS):
            return Availability("hf-cache", str(snapshot))
        return Availability(
            "download",
            f"only part of {repo} is in the Hugging Face cache ({snapshot}); "
            f"download the rest once with network access: hf download {repo}",
        )
    return Availability(
        "download",
        f"not in the Hugging Face cache ({_cache_dir()}); download it once with network access: "
        f"hf download {ref}",
    )


def _bundled(locate: Callable[[], Path]) -> Availability:
    try:
        return Availability("bundled", str(locate()))
    except ModelNotFound as exc:
        return Availability("missing", f"{exc.message} ({exc.hint})")


def _local_file(ref: str) -> Availability:
    path = Path(ref).expanduser()
    if path.is_file():
        return Availability("local", str(path.resolve()))
    return Availability("missing", f"{path} does not exist")


def _default_url(backend: str) -> str:
    try:
        module = importlib.import_module(
            f"rag_models.llm.{'ollama' if backend == 'ollama' else 'openai_compat'}"
        )
    except ImportError:  # the backend's package is missing: `rag models` says so on the LLM line
        return "its default address"
    return str(module.DEFAULT_URL)


def llm_availability(settings: LLMSettings) -> Availability:
    if settings.backend in ("ollama", "openai"):
        server = "Ollama" if settings.backend == "ollama" else "an OpenAI-compatible server"
        return Availability("server", f"{server} at {settings.base_url or _default_url(settings.backend)}")
    if not settings.model:
        return _bundled(bundled.smollm2_gguf)
    if settings.backend == "llamacpp" or settings.model.endswith(".gguf"):
        return _local_file(settings.model)
    if settings.gguf_file:
        return hf_model(settings.model, files=(settings.gguf_file,))
    return hf_model(settings.model)


def embedder_availability(settings: EmbeddingSettings) -> Availability:
    if settings.model in ("", BUNDLED_E5):
        return _bundled(e5_weights_file)
    if settings.model == BUNDLED_MINILM:
        return _bundled(bundled.minilm_dir)
    bare = "/" not in settings.model
    return hf_model(settings.model, aliases=(f"sentence-transformers/{settings.model}",) if bare else ())


def reranker_availability(settings: RerankSettings) -> Availability:
    if not settings.model:
        return Availability("built-in", "the lexical + dense sentence reranker")
    bare = "/" not in settings.model
    return hf_model(settings.model, aliases=(f"cross-encoder/{settings.model}",) if bare else ())
