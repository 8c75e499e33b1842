"""How strongly the context supports answering at all: the refusal stage's calibrated signal.

`term_coverage` is the share of the question's rare-word weight (BM25 IDF over the collection) found
in the best passage. A question about something the documents never mention leaves its key terms
(names, numbers, technical words) uncovered, whatever the retriever returned.

    strength = EvidenceStrength.measure(QueryTerms.of(question, stats), passages, stats, dense_weight)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rag.query.compress import Passage
from rag.query.terms import QueryTerms
from vectorstore.catalog import TermStats


@dataclass(frozen=True, slots=True)
class EvidenceStrength:
    term_coverage: float  # 0..1, IDF-weighted share of question terms in the best passage
    dense: float  # best dense similarity of a passage's chunk to the question
    dense_weight: float  # how far the dense score can be trusted for this question (embedder coverage)

    @classmethod
    def measure(
        cls, query: QueryTerms, passages: Sequence[Passage], stats: TermStats, dense_weight: float
    ) -> EvidenceStrength:
        dense = max((p.dense for p in passages), default=0.0)
        if not query.terms or not passages:
            return cls(0.0, dense, dense_weight)
        ids = [c for p in passages for c in p.chunk_ids]
        found = {t: stats.containing(t, ids) for t in query.terms}
        best = max(query.share({t for t in query.terms if found[t] & set(p.chunk_ids)}) for p in passages)
        return cls(best, dense, dense_weight)

    def sufficient(self, min_term_coverage: float, min_dense: float) -> bool:
        return self.term_coverage >= min_term_coverage or (
            self.dense_weight >= 0.5 and self.dense >= min_dense
        )
