"""Helpers for the query-stage tests: a recording wrapper around the real index, a collection that embeds
and writes documents for real, chunk records for stage tests, components on their own data dir."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from rag.components import Components
from rag_core.settings import Settings
from rag_models.embeddings import SentenceTransformerEmbedder
from tests.helpers import make_write, shared_embedder
from vectorstore.index import TwoLevelIndex
from vectorstore.records import CollectionInfo, DocumentWrite

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
SAMPLES_COLLECTION = "samples"


class RecordingIndex:
    """The real index, recording each search: (method, doc_ids scope, ids of the results)."""

    def __init__(self, inner: TwoLevelIndex) -> None:
        self.inner = inner
        self.calls: list[tuple[str, list[str] | None, list[str]]] = []

    def search_chunks(self, info: CollectionInfo, vector: Any, k: int, doc_ids: Any = None) -> Any:
        hits = self.inner.search_chunks(info, vector, k, doc_ids)
        self._record("search_chunks", doc_ids, [h.chunk.doc_id for h in hits])
        return hits

    def lexical_chunks(self, info: CollectionInfo, query: str, k: int, doc_ids: Any = None) -> Any:
        hits = self.inner.lexical_chunks(info, query, k, doc_ids)
        self._record("lexical_chunks", doc_ids, [h.chunk.doc_id for h in hits])
        return hits

    def search_summaries(self, info: CollectionInfo, vector: Any, k: int, doc_ids: Any = None) -> Any:
        hits = self.inner.search_summaries(info, vector, k, doc_ids)
        self._record("search_summaries", doc_ids, [h.summary.doc_id for h in hits])
        return hits

    def lexical_summaries(self, info: CollectionInfo, query: str, k: int, doc_ids: Any = None) -> Any:
        hits = self.inner.lexical_summaries(info, query, k, doc_ids)
        self._record("lexical_summaries", doc_ids, [h.summary.doc_id for h in hits])
        return hits

    def _record(self, method: str, scope: Any, found: list[str]) -> None:
        self.calls.append((method, None if scope is None else list(scope), found))

    def methods(self) -> set[str]:
        return {m for m, _, _ in self.calls}

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


@dataclass
class Corpus:
    """One collection of the test's own index; `add` embeds and writes documents for real."""

    components: Components
    info: CollectionInfo
    writes: dict[str, DocumentWrite] = field(default_factory=dict)

    @property
    def index(self) -> TwoLevelIndex:
        return self.components.index

    @property
    def embedder(self) -> SentenceTransformerEmbedder:
        return self.components.embedder

    def doc(self, doc_id: str, texts: Sequence[str], **kwargs: Any) -> DocumentWrite:
        """One document version (see `tests.helpers.make_write`), not yet written."""
        return make_write(self.info, doc_id, texts, **kwargs)

    def add(self, *writes: DocumentWrite) -> None:
        """Embed and write documents in one batch (one Chroma write: they are slow on a busy machine)."""
        summaries = self.embedder.embed_array([w.summary.text for w in writes]).tolist()
        chunks = self.embedder.embed_array([c.text for w in writes for c in w.chunks]).tolist()
        self.index.write(self.info, list(writes), summaries, chunks)
        self.writes.update({w.doc_id: w for w in writes})


def own_components(data_dir: Path, **overrides: Any) -> Components:
    """Components on `data_dir` (default settings plus `overrides`, no RAG_* variables, no rag.toml),
    sharing the loaded embedder."""
    with pytest.MonkeyPatch.context() as mp:
        for name in list(os.environ):
            if name.startswith("RAG_"):
                mp.delenv(name)
        mp.chdir(data_dir.parent)
        settings = Settings(data_dir=data_dir, **overrides)
    return Components(settings, embedder=shared_embedder())


def open_corpus(components: Components, name: str = "kb") -> Corpus:
    embedder = components.embedder
    info = components.index.open_collection(
        name, embedder=embedder.model_name, dimension=lambda: embedder.dimension
    )
    return Corpus(components, info)
