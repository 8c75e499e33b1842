"""How strongly the context supports answering at all: the refusal stage's calibrated signal.

`term_coverage` is the share of the question's rare-word weight (BM25 IDF over the collection) found
in the best passage. A question about something the documents never mention leaves its key terms
(names, numbers, technical words) uncovered, whatever the retriever returned.

    strength = EvidenceStrength.measure(question, passages, TermStats(catalog, info))
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from rag.query.compress import Passage
from vectorstore.catalog import TermStats
from vectorstore.lexical_tokens import lexical_tokens

QUESTION_WORDS = frozenset(
    "how what which who whom whose when where why whether does do did done is are was were be been has have "
    "had can could would should will shall may might many much long often please tell explain describe give "
    "list name there their they it its this that these those about according "
    "什么 多少 哪 哪些 哪个 哪里 哪儿 谁 怎么 怎样 怎么样 如何 为什么 为何 "
    "是否 吗 呢 几 多久 多长 多大 请问 请 "
    "有没有 是不是 能否 可以 会 要 有 是".split()
)


@dataclass(frozen=True, slots=True)
class EvidenceStrength:
    term_coverage: float  # 0..1, IDF-weighted share of question terms in the best passage
    dense: float  # best dense similarity of a passage's chunk to the question
    dense_weight: float  # how far the dense score can be trusted for this question (embedder coverage)

    @classmethod
    def measure(
        cls, question: str, passages: Sequence[Passage], stats: TermStats, dense_weight: float
    ) -> EvidenceStrength:
        dense = max((p.dense for p in passages), default=0.0)
        terms = [t for t in dict.fromkeys(lexical_tokens(question)) if t not in QUESTION_WORDS]
        if not terms or not passages:
            return cls(0.0, dense, dense_weight)
        n = max(stats.chunk_count(), 1)
        idf = {}
        for t in terms:
            df = stats.document_frequency(t)
            idf[t] = math.log(1 + (n - df + 0.5) / (df + 0.5))
        ids = [c for p in passages for c in p.chunk_ids]
        found = {t: stats.containing(t, ids) for t in terms}
        total = sum(idf.values()) or 1.0
        best = max(sum(idf[t] for t in terms if found[t] & set(p.chunk_ids)) / total for p in passages)
        return cls(best, dense, dense_weight)

    def sufficient(self, min_term_coverage: float, min_dense: float) -> bool:
        return self.term_coverage >= min_term_coverage or (
            self.dense_weight >= 0.5 and self.dense >= min_dense
        )
