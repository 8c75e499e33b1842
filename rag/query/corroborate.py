"""Corroboration: a candidate whose statement about the question other documents repeat ranks higher.

When several independent documents state the same thing (news reports of one event, copies of a
policy), the candidate that says what the others confirm is more likely the answer than one that only
shares the question's words. A candidate is corroborated by another document when one of its sentences
and one of that document's, both bearing on the question (sharing a question word), say nearly the
same beyond the question's words (Jaccard similarity of their content words and numbers). The count of
corroborating documents ranks the candidates a second time, fused with the incoming order by weighted
reciprocal rank (the fused score becomes the candidate's score, as with the built-in reranker; `scores`
keeps the earlier ones). Sentences repeated within one document count for nothing, so a collection with one
document per topic keeps its order. A question that names a year ("2022年星河杯冠军") is about that year:
a sentence that names only other years reports another time's event, and neither gives nor gets
corroboration, however many reports of that other event agree (unless the question asks for a time).

    corroboration = Corroboration(weight=0.5, similarity=0.35)
    reordered = corroboration.rerank("2022年鸿澜汽车交付量", reranked_hits)
"""

from __future__ import annotations

from collections.abc import Sequence

from rag.query.citations import content_tokens
from rag.query.fusion import weighted_rrf
from rag.query.years import about_other_years, asked_years, years_in
from rag_core.sentences import sentence_spans
from rag_core.types import ScoredChunk

MIN_STATEMENT_TOKENS = 3
"""Sentences with fewer content words beyond the question's (headings, bylines) say too little to compare."""


class Corroboration:
    def __init__(self, weight: float, similarity: float) -> None:
        self.weight = weight
        self.similarity = similarity

    def counts(self, question: str, hits: Sequence[ScoredChunk]) -> list[int]:
        """For each hit, how many other documents among the hits restate one of its relevant sentences."""
        asked = content_tokens(question)
        years = asked_years(question)
        statements = [self._statements(hit.chunk.text, asked, years) for hit in hits]
        counts = []
        for i, hit in enumerate(hits):
            others: set[str] = set()
            for j, other in enumerate(hits):
                doc = other.chunk.doc_id
                if doc == hit.chunk.doc_id or doc in others:
                    continue
                if any(self._restates(a, b) for a in statements[i] for b in statements[j]):
                    others.add(doc)
            counts.append(len(others))
        return counts

    @staticmethod
    def _statements(text: str, asked: frozenset[str], years: frozenset[str]) -> list[frozenset[str]]:
        """What each sentence that bears on the question says beyond the question's words; a sentence
        about other years than the question's bears on another event."""
        out = []
        for a, b in sentence_spans(text):
            if years and about_other_years(years, years_in(text, a, b)):
                continue
            tokens = content_tokens(text[a:b])
            said = tokens - asked
            if tokens & asked and len(said) >= MIN_STATEMENT_TOKENS:
                out.append(said)
        return out

    def _restates(self, a: frozenset[str], b: frozenset[str]) -> bool:
        return len(a & b) >= self.similarity * len(a | b)

    def rerank(self, question: str, hits: Sequence[ScoredChunk]) -> list[ScoredChunk]:
        if self.weight <= 0 or len(hits) < 2:
            return list(hits)
        counts = self.counts(question, hits)
        if not any(counts):
            return list(hits)
        n = len(hits)
        by_support = sorted(range(n), key=lambda i: (-counts[i], i))
        fused = weighted_rrf([(list(range(n)), 1.0), (by_support, self.weight)], key=lambda i: i)
        return [
            ScoredChunk(hits[i].chunk, score, {**hits[i].scores, "corroboration": float(counts[i])})
            for i, score in fused
        ]
