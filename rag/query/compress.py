"""Context compression: fewer, denser tokens for the LLM, strongest evidence first.

1. Overlapping or adjacent chunks of one document merge into one passage.
2. Each passage is cut down to the sentences that bear on the question (query-term overlap weighted
   by rarity among the candidates), each kept with its neighbours for sense.
3. Passages are added best first until the token budget is spent, so the weakest evidence, not the
   strongest, is what gets left out or sits last.

    compressor = ContextCompressor(counter)
    passages = compressor.compress(question, reranked_chunks, top_k=5, budget_tokens=300)
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from ingest.chunking import TokenCounter, sentence_spans
from rag.types import ScoredChunk
from vectorstore.lexical_tokens import lexical_tokens


@dataclass(slots=True)
class Passage:
    """One context item: a span of one document, possibly built from several chunks."""

    doc_id: str
    source: str
    title: str
    page: int | None
    section: str
    text: str
    start: int
    end: int
    score: float
    dense: float = 0.0  # best dense similarity of its chunks to the question (0 if none was computed)
    chunk_ids: list[str] = field(default_factory=list)
    chunk_indexes: list[int] = field(default_factory=list)


def merge_chunks(hits: Sequence[ScoredChunk]) -> list[Passage]:
    """Fold each chunk into an earlier passage of the same document when their spans touch or overlap."""
    passages: list[Passage] = []
    for hit in hits:
        c = hit.chunk
        for p in passages:
            touches = c.start <= p.end + 2 and c.end >= p.start - 2
            adjacent = any(abs(c.index - i) == 1 for i in p.chunk_indexes)
            if p.doc_id == c.doc_id and (touches or adjacent):
                _extend(p, c.text, c.start, c.end)
                p.dense = max(p.dense, hit.scores.get("dense", 0.0))
                p.chunk_ids.append(c.id)
                p.chunk_indexes.append(c.index)
                break
        else:
            passages.append(
                Passage(
                    c.doc_id,
                    c.source,
                    c.title,
                    c.page,
                    c.section,
                    c.text,
                    c.start,
                    c.end,
                    hit.score,
                    hit.scores.get("dense", 0.0),
                    [c.id],
                    [c.index],
                )
            )
    return passages


def _extend(p: Passage, text: str, start: int, end: int) -> None:
    if start >= p.start and end <= p.end:
        return
    if start <= p.start and end >= p.end:
        p.text, p.start, p.end = text, start, end
    elif start > p.start:
        overlap = max(0, p.end - start)
        p.text = p.text + ("" if overlap else "\n") + text[overlap:]
        p.end = end
    else:
        overlap = max(0, end - p.start)
        p.text = text + ("" if overlap else "\n") + p.text[overlap:]
        p.start = start


class ContextCompressor:
    def __init__(self, counter: TokenCounter, *, neighbours: int = 1) -> None:
        self.counter = counter
        self.neighbours = neighbours

    def compress(
        self, question: str, hits: Sequence[ScoredChunk], *, top_k: int, budget_tokens: int, trim: bool = True
    ) -> list[Passage]:
        passages = merge_chunks(hits)
        if trim:
            passages = self._trim(question, passages)
        return self._fit(passages, top_k, budget_tokens)

    def _trim(self, question: str, passages: list[Passage]) -> list[Passage]:
        query = set(lexical_tokens(question))
        if not query:
            return passages
        split = [[p.text[a:b] for a, b in sentence_spans(p.text)] for p in passages]
        tokens = [[set(lexical_tokens(s)) for s in sentences] for sentences in split]
        df = Counter(t for per in tokens for toks in per for t in toks & query)
        n = sum(len(per) for per in tokens) or 1
        weight = {t: math.log(1 + n / (1 + df[t])) for t in query}
        for p, sentences, toks in zip(passages, split, tokens, strict=True):
            scores = [sum(weight[t] for t in s & query) for s in toks]
            best = max(scores, default=0.0)
            if best <= 0 or len(sentences) <= 1:
                continue
            keep: set[int] = set()
            for i, s in enumerate(scores):
                if s >= 0.5 * best:
                    keep.update(
                        range(max(0, i - self.neighbours), min(len(sentences), i + self.neighbours + 1))
                    )
            p.text = " ".join(sentences[i] for i in sorted(keep))
        return passages

    def _fit(self, passages: list[Passage], top_k: int, budget: int) -> list[Passage]:
        if not passages:
            return []
        lengths = self.counter.token_lengths([p.text for p in passages[: top_k * 2]])
        chosen: list[Passage] = []
        used = 0
        for p, n in zip(passages, lengths, strict=False):
            if len(chosen) >= top_k:
                break
            if used + n > budget:
                if chosen:
                    continue
                spans = self.counter.token_spans(p.text)
                p.text = p.text[: spans[budget - 1][1]] if budget > 0 and len(spans) >= budget else p.text
                n = budget
            chosen.append(p)
            used += n
        return chosen
