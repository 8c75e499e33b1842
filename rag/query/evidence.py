"""How strongly the context supports answering at all: the refusal stage's calibrated signal.

`term_coverage` is the share of the question's rare-word weight (BM25 IDF over the collection) that
two consecutive sentences of one passage hold together. A question about something the documents never
mention leaves its key terms (names, numbers, technical words) uncovered, whatever the retriever
returned; the common words it shares with a passage are scattered, where an answer repeats the
question's words in one place.

A question about a year ("2024年星河杯帆船赛冠军") is not answered from evidence that names only other
years: it reports other times' events and would give another year's facts as the answer. Evidence that
names no year at all (an undated policy) does not count against the question. Likewise for a numbered
name: evidence about the NR-7 alone does not answer a question about the NR-8. The passages' titles and
headings count as part of the evidence here.

A multilingual embedder scores passages in another script than the question's (an English question, a
Chinese passage) lower than passages in its own, whatever they say: the best dense score is kept for each
(`dense`, `dense_across`) and each has its own threshold.

    strength = EvidenceStrength.measure(QueryTerms.of(question, stats), passages, dense_weight, script)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rag.query.numbered import numbered_names, other_numbers
from rag.query.passages import Passage
from rag.query.terms import QueryTerms, sentence_windows
from rag.query.years import about_other_years, years_in
from rag_core.tokens import script_of


@dataclass(frozen=True, slots=True)
class EvidenceStrength:
    term_coverage: float  # 0..1, IDF-weighted share of question terms in the best two-sentence window
    dense: float  # best dense similarity of a passage's chunk to the question
    dense_weight: float  # how far the dense score can be trusted for this question (embedder coverage)
    # the years or numbered names the question asks about, when the evidence names only others of them
    unmatched: frozenset[str] = frozenset()
    dense_across: float = 0.0  # best dense similarity of a passage in another script than the question's

    @classmethod
    def measure(
        cls, query: QueryTerms, passages: Sequence[Passage], dense_weight: float, script: str = ""
    ) -> EvidenceStrength:
        """`script` is the question's (`script_of`); passages in another one count for `dense_across`."""
        own = [p.dense for p in passages if not script or script_of(p.text) == script]
        across = [p.dense for p in passages if script and script_of(p.text) != script]
        dense, dense_across = max(own, default=0.0), max(across, default=0.0)
        unmatched = _unmatched(query, passages)
        if not query.terms or not passages:
            return cls(0.0, dense, dense_weight, unmatched, dense_across)
        best = max(query.covered(w) for p in passages for w in sentence_windows(p.text))
        return cls(best, dense, dense_weight, unmatched, dense_across)

    def sufficient(
        self, min_term_coverage: float, min_dense: float, min_dense_across: float | None = None
    ) -> bool:
        """Enough when the terms are covered, or a passage reaches the dense threshold for its script
        relation to the question (`min_dense_across`, for passages in the other script: `min_dense` if
        not given)."""
        if self.unmatched:
            return False
        across = min_dense if min_dense_across is None else min_dense_across
        return self.term_coverage >= min_term_coverage or (
            self.dense_weight >= 0.5 and (self.dense >= min_dense or self.dense_across >= across)
        )


def _unmatched(query: QueryTerms, passages: Sequence[Passage]) -> frozenset[str]:
    """The question's years and numbered names whose kind the passages (titles and headings included)
    name only with other values; nothing is read when the question pins down neither."""
    if not query.years and not query.numbered:
        return frozenset()
    labelled = [f"{p.title}\n{p.section}\n{p.text}" for p in passages]
    unmatched = other_numbers(query.numbered, frozenset().union(*(numbered_names(t) for t in labelled)))
    if about_other_years(query.years, frozenset().union(*(years_in(t) for t in labelled))):
        unmatched |= query.years
    return unmatched
