"""Context compression for the prompt: the passages as they are when they fit the evidence budget, and
when they do not, a contiguous window of each around the sentence that bears most on the question.

Compression serves the prompt only (`retrieval_only` gets the passages whole). A window is a run of
whole sentences of the passage's own text, line breaks kept, so a list, a paragraph or a table row with
its header stays readable; nothing is cut out of its middle. Each passage's core is its sentence with
the most question-word weight (rarity among the passages' sentences); a sentence that only repeats the
passage's title or heading is not a core. The budget goes to the cores best passage first (a weaker
passage whose core does not fit is left out), then widens every window by a sentence after and a
sentence before in rounds, best passage first, until the budget is spent.

    compressor = ContextCompressor(counter)
    prompt_passages = compressor.fit("How many days ...?", passages, budget_tokens=600)
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace

from ingest.chunking import TokenCounter
from rag.query.passages import Passage
from rag_core.sentences import sentence_spans
from rag_core.tokens import match_terms
from vectorstore.titles import normal_words


@dataclass(slots=True)
class _Window:
    passage: Passage
    spans: list[tuple[int, int]]  # the passage's sentences
    lengths: list[int]  # their tokens
    core: int
    lo: int
    hi: int
    open_before: bool = True
    open_after: bool = True


def _label_sentences(p: Passage, sentences: Sequence[str]) -> set[int]:
    """The sentences that only repeat the passage's title or heading: the source label already shows
    them, so that they match the question's words says nothing about the answer."""
    labels = {normal_words(x) for x in (p.title, *p.section.split(" > ")) if x}
    return {i for i, s in enumerate(sentences) if normal_words(s) in labels}


class ContextCompressor:
    def __init__(self, counter: TokenCounter) -> None:
        self.counter = counter

    def fit(self, question: str, passages: Sequence[Passage], budget_tokens: int) -> list[Passage]:
        """Copies of the passages that fit `budget_tokens` together, each with its `core` set."""
        windows = self._windows(question, passages)
        if not windows:
            return []
        whole = sum(sum(w.lengths) for w in windows)
        if whole <= budget_tokens:
            return [self._cut(w, whole=True) for w in windows]
        chosen: list[_Window] = []
        used = 0
        for w in windows:
            size = w.lengths[w.core]
            if chosen and used + size > budget_tokens:
                continue
            chosen.append(w)
            used += size
        self._grow(chosen, budget_tokens - used)
        return [self._cut(w) for w in chosen]

    def _windows(self, question: str, passages: Sequence[Passage]) -> list[_Window]:
        query = match_terms(question, query=True)
        spans = [sentence_spans(p.text) or [(0, len(p.text))] for p in passages]
        split = [[p.text[a:b] for a, b in ss] for p, ss in zip(passages, spans, strict=True)]
        tokens = [[match_terms(s) & query for s in sentences] for sentences in split]
        df = Counter(t for per in tokens for toks in per for t in toks)
        n = sum(len(per) for per in tokens) or 1
        weight = {t: math.log(1 + n / (1 + df[t])) for t in query}
        lengths = self.counter.token_lengths([s for sentences in split for s in sentences])
        windows = []
        offset = 0
        for p, ss, sentences, toks in zip(passages, spans, split, tokens, strict=True):
            score = [sum(weight[t] for t in toks[i]) for i in range(len(sentences))]
            label = _label_sentences(p, sentences)
            core = min(range(len(sentences)), key=lambda i: (i in label, -score[i], i))
            own = lengths[offset : offset + len(sentences)]
            windows.append(_Window(p, ss, own, core, core, core))
            offset += len(sentences)
        return windows

    @staticmethod
    def _grow(windows: list[_Window], room: int) -> None:
        """Widen the windows a sentence after and a sentence before at a time, best passage first, in
        rounds, while the budget lasts; a side that met a sentence too long for what is left stays shut,
        so that every window stays contiguous."""
        while room > 0 and any(w.open_before or w.open_after for w in windows):
            for w in windows:
                for side in ("after", "before"):
                    i = w.hi + 1 if side == "after" else w.lo - 1
                    if not getattr(w, f"open_{side}"):
                        continue
                    if not 0 <= i < len(w.spans) or w.lengths[i] > room:
                        setattr(w, f"open_{side}", False)
                        continue
                    room -= w.lengths[i]
                    if side == "after":
                        w.hi = i
                    else:
                        w.lo = i

    @staticmethod
    def _cut(w: _Window, whole: bool = False) -> Passage:
        p = w.passage
        a, b = w.spans[w.core]
        core = p.text[a:b]
        if whole:
            return replace(p, core=core)
        start, end = w.spans[w.lo][0], w.spans[w.hi][1]
        return replace(p, text=p.text[start:end], start=p.start + start, end=p.start + end, core=core)
