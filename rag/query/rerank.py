"""Rerankers: reorder the fused candidates by a finer relevance judgement.

- `CrossEncoderReranker`: a sentence-transformers CrossEncoder (any id or path, e.g.
  `BAAI/bge-reranker-v2-m3` for Chinese and English), scoring (question, passage) pairs in batches.
- `PassthroughReranker`: keeps the fusion order. The embedded default, because no reranker model
  ships offline; `rag eval --ablate rerank` measures what a configured reranker adds.

    reranker = build_reranker(settings.rerank)
    best = reranker.rerank("question", candidates, top_n=10)
"""

from __future__ import annotations

import math
import os
import threading
from collections.abc import Sequence
from typing import Any, Protocol

from rag.query.fusion import weighted_rrf
from rag.query.terms import sentence_windows
from rag_core.errors import BackendUnavailable, ModelNotFound
from rag_core.query_settings import RerankSettings
from rag_core.tokens import match_terms, script_of
from rag_core.types import ScoredChunk


class Reranker(Protocol):
    name: str

    def rerank(self, query: str, hits: Sequence[ScoredChunk], top_n: int) -> list[ScoredChunk]: ...


class PassthroughReranker:
    name = "none"

    def rerank(self, query: str, hits: Sequence[ScoredChunk], top_n: int) -> list[ScoredChunk]:
        return list(hits[:top_n])


class CrossEncoderReranker:
    def __init__(self, model: str, *, device: str = "cpu", batch_size: int = 16) -> None:
        self.name = model
        self._device = device
        self._batch_size = batch_size
        self._model: Any = None
        self._lock = threading.Lock()

    def _load(self) -> Any:
        with self._lock:
            if self._model is None:
                from sentence_transformers import CrossEncoder

                device = self._device
                if device == "auto":
                    import torch

                    device = "cuda" if torch.cuda.is_available() else "cpu"
                try:
                    self._model = CrossEncoder(self.name, device=device)
                except (OSError, ValueError) as exc:
                    if os.path.exists(self.name):
                        raise ModelNotFound(f"cannot load reranker {self.name}: {exc}") from exc
                    raise ModelNotFound(
                        f"reranker model {self.name!r} is not available locally and could not be downloaded",
                        hint="download it once with network access, or set RAG_RERANK__MODEL to a local "
                        "directory; empty disables the cross-encoder",
                    ) from exc
                except Exception as exc:
                    raise BackendUnavailable(f"cannot load reranker {self.name}: {exc}") from exc
        return self._model

    def rerank(self, query: str, hits: Sequence[ScoredChunk], top_n: int) -> list[ScoredChunk]:
        if not hits:
            return []
        model = self._model or self._load()
        pairs = [(query, h.chunk.text) for h in hits]
        scores = model.predict(pairs, batch_size=self._batch_size, show_progress_bar=False)
        ranked = []
        for hit, score in zip(hits, scores, strict=True):
            ranked.append(ScoredChunk(hit.chunk, float(score), {**hit.scores, "rerank": float(score)}))
        ranked.sort(key=lambda h: h.score, reverse=True)
        return ranked[:top_n]


def build_reranker(settings: RerankSettings) -> Reranker:
    if settings.model:
        return CrossEncoderReranker(settings.model, device=settings.device, batch_size=settings.batch_size)
    if settings.proximity_weight > 0:
        return ProximityReranker(settings.proximity_weight)
    return PassthroughReranker()


class ProximityReranker:
    """The built-in reranker (no model): a second opinion on the fused order from the best window of
    two consecutive sentences in each candidate, scored by the share of the question's rare words it
    holds (IDF among the candidates). The answer to a question usually sits in one sentence that
    repeats most of the question's words; chunk-level scores cannot see that. Fused with the incoming
    order by weighted reciprocal rank."""

    name = "proximity"

    def __init__(self, weight: float = 1.0) -> None:
        self.weight = weight

    def rerank(self, query: str, hits: Sequence[ScoredChunk], top_n: int) -> list[ScoredChunk]:
        terms = match_terms(query, query=True)
        if not hits or not terms:
            return list(hits[:top_n])
        windows = [sentence_windows(h.chunk.text) for h in hits]
        df = {t: sum(1 for ws in windows if any(t in w for w in ws)) for t in terms}
        n = len(hits)
        idf = {t: math.log(1 + (n - df[t] + 0.5) / (df[t] + 0.5)) for t in terms}
        # fsum: exact whatever the order a set yields its terms in (which varies between processes), so
        # equal windows tie alike in every run
        total = math.fsum(idf.values()) or 1.0
        best = [
            max((math.fsum(idf[t] for t in terms & w) for w in ws), default=0.0) / total for ws in windows
        ]
        by_words = {i: rank for rank, i in enumerate(sorted(range(n), key=lambda i: (-best[i], i)))}
        # a passage in another script than the question's shares few of its words whatever it says:
        # its words can move it up, their absence does not move it down
        own = script_of(query)
        place = {
            i: by_words[i] if script_of(hits[i].chunk.text) == own else min(i, by_words[i]) for i in range(n)
        }
        second = sorted(range(n), key=lambda i: (place[i], i))
        fused = weighted_rrf([(list(range(n)), 1.0), (second, self.weight)], key=lambda i: i)
        return [
            ScoredChunk(hits[i].chunk, score, {**hits[i].scores, "proximity": best[i]})
            for i, score in fused[:top_n]
        ]
