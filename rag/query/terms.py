"""The question's content words and their rarity in the collection, computed once per query and shared
by the stages that weigh evidence (compression, the refusal check).

    terms = QueryTerms.of("How long does the NR-7 battery last?", TermStats(catalog, info))
    terms.idf["battery"]
"""

from __future__ import annotations

import math
from collections.abc import Container, Iterable
from dataclasses import dataclass

from vectorstore.catalog import TermStats
from vectorstore.lexical_tokens import QUESTION_WORDS, lexical_tokens, match_forms, match_terms


@dataclass(frozen=True, slots=True)
class QueryTerms:
    terms: tuple[str, ...]
    idf: dict[str, float]  # BM25 IDF over the collection's chunks
    forms: tuple[str, ...] = ()  # each term as `match_terms` gives it (stemmed)

    @classmethod
    def of(cls, question: str, stats: TermStats) -> QueryTerms:
        # not `question_terms`: the refusal check keeps jieba's "which" words (哪家) as terms; leaving
        # them out lowered rgb-zh's refusal of foreign questions from 0.79 to 0.77 (docs/eval.md)
        terms = tuple(
            t for t in dict.fromkeys(lexical_tokens(question, query=True)) if t not in QUESTION_WORDS
        )
        if not terms:
            return cls((), {})
        n = max(stats.chunk_count(), 1)
        idf = {}
        for t in terms:
            df = stats.document_frequency(t)
            idf[t] = math.log(1 + (n - df + 0.5) / (df + 0.5))
        return cls(terms, idf, tuple(match_forms(terms)))

    def share(self, present: Container[str]) -> float:
        """The IDF-weighted share of the question's terms that are `present`."""
        return sum(self.idf[t] for t in self.terms if t in present) / (sum(self.idf.values()) or 1.0)

    def coverage(self, texts: Iterable[str]) -> float:
        """The share of the question's terms that occur in the texts (1 without terms)."""
        if not self.terms:
            return 1.0
        found = frozenset().union(*(match_terms(text) for text in texts))
        return self.share({t for t, form in zip(self.terms, self.forms, strict=True) if form in found})
