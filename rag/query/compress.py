"""Context compression: fewer, denser tokens for the LLM, strongest evidence first.

1. Overlapping or adjacent chunks of one document merge into one passage (never across pages: a
   passage is cited with one page number).
2. Each passage is cut down to the sentences that bear on the question (query-term overlap weighted
   by rarity among the candidates), each kept with its neighbours for sense.
3. The budget goes to the best passages first, so the weakest evidence, not the strongest, is what
   gets left out or sits last.

    compressor = ContextCompressor(counter)
    passages = compressor.compress(question, reranked_chunks, top_k=5, budget_tokens=300)
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from ingest.chunking import TokenCounter, sentence_spans
from rag.types import ScoredChunk
from vectorstore.lexical_tokens import match_terms
from vectorstore.titles import normal_words


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
    core: str = ""  # the sentences that bear most on the question, "…" between gaps (set by compression)


def merge_chunks(hits: Sequence[ScoredChunk]) -> list[Passage]:
    """Fold each chunk into an earlier passage of the same document when their spans touch or overlap."""
    passages: list[Passage] = []
    for hit in hits:
        c = hit.chunk
        for p in passages:
            touches = c.start <= p.end + 2 and c.end >= p.start - 2
            adjacent = any(abs(c.index - i) == 1 for i in p.chunk_indexes)
            if p.doc_id == c.doc_id and p.page == c.page and (touches or adjacent):
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


# A sentence opening with a reference back ("These devices ...", "该法令...") needs the sentence before it.
# Pronouns at the start, plural demonstratives anywhere ("... treated using these devices"); "such as" and
# "those who" introduce what they refer to ("movies, such as ...") and refer back to nothing.
_ANAPHOR = re.compile(
    r"^\W*(?:(?:this|these|that|those|it|its|they|their|them|he|his|him|she|her|such)\b(?!\s+(?:as|who)\b)"
    r"|(?:这|那|该|此|其(?!他|中|实)|他|她|它|上述|前者|后者))"
    r"|\b(?:these|those(?!\s+who\b)|such(?!\s+as\b))\s+\w|这些|那些|上述|(?<![应活])该",
    re.IGNORECASE,
)


def _with_antecedents(sentences: Sequence[str], core: int, extras: list[int]) -> list[int]:
    """The extra sentences, each kept sentence that refers back preceded by the sentence it refers to."""
    kept = [core, *extras]
    out: list[int] = []
    for i in kept:
        if i > 0 and i - 1 not in kept and i - 1 not in out and _ANAPHOR.search(sentences[i]):
            out.append(i - 1)
        if i != core:
            out.append(i)
    return out


def _label_sentences(p: Passage, sentences: Sequence[str]) -> set[int]:
    """The sentences that only repeat the passage's title or heading: the source label already shows
    them, so that they match the question's words says nothing about the answer."""
    labels = {normal_words(x) for x in (p.title, *p.section.split(" > ")) if x}
    return {i for i, s in enumerate(sentences) if normal_words(s) in labels}


def _gaps(kept: set[int]) -> list[int]:
    """The single sentences left out between two kept ones: with them the excerpt reads on."""
    return [i + 1 for i in sorted(kept) if i + 1 not in kept and i + 2 in kept]


def _excerpt(sentences: Sequence[str], indexes: Sequence[int]) -> str:
    """The sentences at `indexes` (ascending), with "…" where sentences between them are left out."""
    parts: list[str] = []
    for k, i in enumerate(indexes):
        if k and i > indexes[k - 1] + 1:
            parts.append("…")
        parts.append(sentences[i].strip())
    return " ".join(parts)


@dataclass(slots=True)
class _Trimmed:
    passage: Passage
    sentences: list[str]
    lengths: list[int]
    keep: set[int]
    core: int
    extras: list[int]  # kept next-best sentences, best first (dropped from the end when over budget)


class ContextCompressor:
    """Sentence-level compression under a token budget, best evidence first.

    Each passage's core is its sentence with the most question-word weight (rarity among the candidate
    sentences). The best passages also keep their next-best sentences that share question words
    (`sentences_by_rank`: 4 for the first, 2 for the second, 1 for the rest): the top passage is usually
    the right one, but its best-matching sentence is not always the one holding the answer. A single
    sentence between two kept ones is kept with them (the excerpt then reads on; the answer often
    follows the sentence that names the topic), before a weaker passage gets room. All kept
    sentences are placed first, best passage first; what is left widens the passages with neighbouring
    sentences in rounds (a neighbour for every passage before a second one for any). With `trim=False`
    passages keep their full text and are cut only to fit the budget.
    """

    def __init__(self, counter: TokenCounter, sentences_by_rank: Sequence[int] = (4, 2, 1)) -> None:
        self.counter = counter
        self.sentences_by_rank = tuple(sentences_by_rank) or (1,)

    def _sentences(self, rank: int) -> int:
        """How many of its best sentences the passage at `rank` keeps before widening."""
        return max(1, self.sentences_by_rank[min(rank, len(self.sentences_by_rank) - 1)])

    def compress(
        self,
        question: str,
        hits: Sequence[ScoredChunk],
        *,
        top_k: int,
        budget_tokens: int,
        trim: bool = True,
    ) -> list[Passage]:
        passages = merge_chunks(hits)[:top_k]
        if not passages:
            return []
        if not trim:
            return self._fit_whole(passages, budget_tokens)
        items = self._cores(question, passages)
        used = 0
        chosen: list[_Trimmed] = []
        for t in items:
            size = sum(t.lengths[i] for i in t.keep)
            while t.extras and used + size > budget_tokens:  # the weakest extra sentence goes first
                dropped = t.extras.pop()
                t.keep.discard(dropped)
                size -= t.lengths[dropped]
            if chosen and used + size > budget_tokens:
                continue
            chosen.append(t)
            used += size
        self._widen(chosen, budget_tokens - used)
        for t in chosen:
            t.passage.text = " ".join(t.sentences[i] for i in sorted(t.keep))
            t.passage.core = _excerpt(t.sentences, sorted({t.core, *t.extras}))
        return [t.passage for t in chosen]

    def _cores(self, question: str, passages: list[Passage]) -> list[_Trimmed]:
        query = match_terms(question, query=True)
        split = [[p.text[a:b] for a, b in sentence_spans(p.text)] or [p.text] for p in passages]
        tokens = [[match_terms(s) & query for s in sentences] for sentences in split]
        df = Counter(t for per in tokens for toks in per for t in toks)
        n = sum(len(per) for per in tokens) or 1
        weight = {t: math.log(1 + n / (1 + df[t])) for t in query}
        lengths = self.counter.token_lengths([s for sentences in split for s in sentences])
        items = []
        offset = 0
        for rank, (p, sentences, toks) in enumerate(zip(passages, split, tokens, strict=True)):
            score = [sum(weight[t] for t in toks[i]) for i in range(len(sentences))]
            label = _label_sentences(p, sentences)
            best = sorted(range(len(sentences)), key=lambda i: (i in label, -score[i], i))
            core = best[0]
            extras = _with_antecedents(
                sentences, core, [i for i in best[1 : self._sentences(rank)] if score[i] > 0]
            )
            extras += _gaps({core, *extras})
            own = lengths[offset : offset + len(sentences)]
            items.append(_Trimmed(p, sentences, own, {core, *extras}, core, extras))
            offset += len(sentences)
        return items

    def _widen(self, items: list[_Trimmed], room: int) -> None:
        """Add the neighbours around the cores in rounds, best passage first, one on each side of every
        passage before the next ones, until the budget is spent."""
        longest = max((len(t.sentences) for t in items), default=0)
        for distance in range(1, longest):
            for t in items:
                for i in (t.core + distance, t.core - distance):
                    if 0 <= i < len(t.sentences) and t.lengths[i] <= room:
                        t.keep.add(i)
                        room -= t.lengths[i]
                if room <= 0:
                    return

    def _fit_whole(self, passages: list[Passage], budget: int) -> list[Passage]:
        lengths = self.counter.token_lengths([p.text for p in passages])
        chosen: list[Passage] = []
        used = 0
        for p, n in zip(passages, lengths, strict=True):
            if used + n > budget:
                if chosen:
                    continue
                spans = self.counter.token_spans(p.text)
                p.text = p.text[: spans[budget - 1][1]] if len(spans) >= budget else p.text
                n = budget
            chosen.append(p)
            used += n
        return chosen
