"""The question's content words and their rarity in the collection, and the years and numbered names it
pins down, computed once per query and shared by the stages that weigh evidence (the budget growth
after compression, the refusal check).

    terms = QueryTerms.of("How long does the NR-7 battery last?", TermStats(catalog, info))
    terms.idf["battery"]
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Container, Iterable
from dataclasses import dataclass, field

from rag.query.numbered import numbered_names
from rag.query.years import asked_years
from rag_core.sentences import sentence_spans
from rag_core.tokens import has_cjk, match_forms, match_terms, question_terms
from vectorstore.lexical import TermStats


@dataclass(frozen=True, slots=True)
class QueryTerms:
    terms: tuple[str, ...]
    idf: dict[str, float]  # BM25 IDF over the collection's chunks
    forms: tuple[str, ...] = ()  # each term as `match_terms` gives it (stemmed)
    years: frozenset[str] = frozenset()  # the years the question is about (`asked_years`)
    numbered: frozenset[tuple[str, str]] = frozenset()  # the numbered names it names (NR-8, version 5.0)
    total: float = field(init=False)  # the IDF weight of all terms (1 without terms)

    def __post_init__(self) -> None:
        object.__setattr__(self, "total", sum(self.idf.values()) or 1.0)

    @classmethod
    def of(cls, question: str, stats: TermStats) -> QueryTerms:
        terms = tuple(dict.fromkeys(question_terms(question)))
        years = asked_years(question)
        numbered = numbered_names(question)
        if not terms:
            return cls((), {}, years=years, numbered=numbered)
        n = max(stats.chunk_count(), 1)
        idf = {}
        for t in terms:
            df = stats.document_frequency(t)
            idf[t] = math.log(1 + (n - df + 0.5) / (df + 0.5))
        return cls(terms, idf, tuple(match_forms(terms)), years, numbered)

    def coverage(self, texts: Iterable[str]) -> float:
        """The share of the question's terms that occur in the texts (1 without terms)."""
        return self.covered(frozenset().union(*(match_terms(text) for text in texts)))

    def covered(self, found: Container[str]) -> float:
        """The IDF-weighted share of the question's terms whose match forms are `found` (1 without
        terms). A Chinese word that is not found whole counts half the share of its characters that are
        (资助 / 资金): Chinese writes one thing in differently segmented words, as `match_terms` knows."""
        if not self.terms:
            return 1.0
        weight = 0.0
        for term, form in zip(self.terms, self.forms, strict=True):
            if form in found:
                weight += self.idf[term]
            elif len(term) > 1 and has_cjk(term):
                weight += self.idf[term] * 0.5 * sum(c in found for c in term) / len(term)
        return weight / self.total


def sentence_windows(text: str) -> list[frozenset[str]]:
    """The match terms of each two consecutive sentences of `text` (of its one sentence, if so): where an
    answer and the question's words it repeats usually stand together."""
    sentences = [match_terms(text[a:b]) for a, b in sentence_spans(text)]
    if len(sentences) < 2:
        return sentences
    return [a | b for a, b in itertools.pairwise(sentences)]
