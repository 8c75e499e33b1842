"""Metric functions of `rag eval`, each on plain values so they are easy to test and to reuse.

Definitions (docs/eval.md has the full text):
- a context item is a *hit* when it comes from a gold document and, where the question has extractive
  short answers, contains one of them (`rag.eval.text.contains_answer`); yes/no answers are not
  extractive, so for them the gold document alone decides;
- hit@k: a hit among the first k items; MRR@10: 1 / rank of the first hit within 10, else 0;
- citation precision: share of an answer's citations that are hits, 0 for an answer with none;
- groundedness: share of an answer's sentences whose content tokens are mostly (>= `SUPPORT`) found in
  the sources the sentence cites (or, for a sentence without a marker, in all sources the answer cites).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from rag.eval.text import (
    citation_markers,
    contains_answer,
    content_tokens,
    leading_markers,
    normalize,
    sentences,
    strip_markers,
)

KS = (1, 3, 5, 10)
MRR_K = 10
REACH_STAGES = ("retrieve", "rerank")
"""The stages whose output `reach` checks for a hit: the candidates retrieval hands to the reranker, and
the top passages after reranking, whole (before compression cuts them); then the final context."""
SUPPORT = 0.6
NON_EXTRACTIVE = frozenset({"yes", "no", "是", "否", "不是"})


def extractive_answers(answers: Sequence[str]) -> list[str]:
    """The short answers a passage can be expected to contain (yes/no answers are judgements)."""
    return [a for a in answers if normalize(a, cjk=False) not in NON_EXTRACTIVE and a.strip()]


def is_hit(
    doc_id: str, text: str, gold_docs: Sequence[str], answers: Sequence[str], lang: str = "en"
) -> bool:
    if doc_id not in gold_docs:
        return False
    needles = extractive_answers(answers)
    return not needles or contains_answer(text, needles, lang)


def hits_at(flags: Sequence[bool], ks: Sequence[int] = KS) -> dict[int, bool]:
    return {k: any(flags[:k]) for k in ks}


def reciprocal_rank(flags: Sequence[bool], k: int = MRR_K) -> float:
    for rank, flag in enumerate(flags[:k], start=1):
        if flag:
            return 1.0 / rank
    return 0.0


def answer_correct(answer: str, answers: Sequence[str], lang: str = "en") -> bool | None:
    """Whether the answer contains a short answer; None when the question has none (long-form only)."""
    if not answers:
        return None
    return contains_answer(answer, answers, lang)


def citation_precision(cited_hits: Sequence[bool]) -> float:
    return sum(cited_hits) / len(cited_hits) if cited_hits else 0.0


def cited_sentences(answer: str) -> list[tuple[str, list[int]]]:
    """The answer's sentences without markers, each with the source numbers it cites. Markers that open
    a sentence (`fact. [1] Next`) belong to the sentence before."""
    result: list[tuple[str, list[int]]] = []
    for raw in sentences(answer):
        if result:
            moved, raw = leading_markers(raw)
            result[-1][1].extend(moved)
        plain = strip_markers(raw).strip()
        markers = citation_markers(raw)
        if plain:
            result.append((plain, markers))
        elif result:
            result[-1][1].extend(markers)
    return result


def supported(sentence: str, source_texts: Sequence[str], threshold: float = SUPPORT) -> bool:
    tokens = content_tokens(sentence)
    if not tokens or not source_texts:
        return False
    known: set[str] = set()
    for text in source_texts:
        known |= content_tokens(text)
    return len(tokens & known) / len(tokens) >= threshold


def groundedness(answer: str, sources: Mapping[int, str], cited: Sequence[int]) -> float | None:
    """Share of sentences supported by the sources they cite. `sources` maps a marker number to the
    source's text; `cited` is every source the answer cites. None when no sentence has content words."""
    counted = supported_count = 0
    for sentence, markers in cited_sentences(answer):
        if not content_tokens(sentence):
            continue
        own = [n for n in dict.fromkeys(markers) if n in sources] or [n for n in cited if n in sources]
        counted += 1
        supported_count += supported(sentence, [sources[n] for n in own])
    return supported_count / counted if counted else None


def context_support(answer: str, context: Sequence[str]) -> float | None:
    """Share of sentences supported by the context as a whole, citations ignored."""
    flags = [supported(s, context) for s, _ in cited_sentences(answer) if content_tokens(s)]
    return sum(flags) / len(flags) if flags else None


def percentile(values: Sequence[float], q: float) -> float | None:
    """Linear interpolation between closest ranks (numpy's default); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100
    low, high = math.floor(pos), math.ceil(pos)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None
