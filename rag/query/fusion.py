"""Weighted reciprocal-rank fusion.

Plain equal-weight fusion lets a useless ranking drown a good one: with an English-only embedder, the
dense ranking of a Chinese question is noise, and averaging it with BM25 halves hit@1. Each list
therefore carries a weight; the dense weight is the embedder's coverage of the question (see
`Embedder.coverage`), so a multilingual embedder gets full weight and an English one on Chinese little.

    fused = weighted_rrf([(dense_hits, 0.9), (bm25_hits, 1.0)], key=lambda h: h.chunk.id)
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from typing import TypeVar

T = TypeVar("T")
RRF_K = 60


def weighted_rrf(
    rankings: Sequence[tuple[Sequence[T], float]], *, key: Callable[[T], Hashable], k: int = RRF_K
) -> list[tuple[T, float]]:
    """Fuse ranked lists; returns (item, fused score), best first. The first-seen item object is kept."""
    scores: dict[Hashable, float] = {}
    items: dict[Hashable, T] = {}
    for ranking, weight in rankings:
        if weight <= 0:
            continue
        for rank, item in enumerate(ranking):
            ident = key(item)
            items.setdefault(ident, item)
            scores[ident] = scores.get(ident, 0.0) + weight / (k + rank + 1)
    order = sorted(scores, key=lambda i: scores[i], reverse=True)
    return [(items[i], scores[i]) for i in order]
