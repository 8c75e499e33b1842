"""Document summaries for the summary level of the index.

- `ExtractiveSummarizer` (default, no LLM): the title, the document's outline (its headings) and the
  sentences that best represent it (lead sentences plus the sentences richest in the document's
  frequent terms), in document order, within a token budget. A document that fits the budget is its
  own summary.
- `LLMSummarizer`: written by the configured LLM, map-reduce for long documents (parts summarised,
  then combined), in the document's language.

    summary_text = ExtractiveSummarizer(embedder, max_tokens=160).summarize(doc, drafts)
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from typing import Protocol

from ingest.chunking import ChunkDraft, TokenCounter
from rag_core.sentences import sentence_spans
from rag_core.tokens import has_cjk, lexical_tokens
from rag_core.types import LoadedDocument
from rag_models.llm.base import LLM, ChatMessage, GenerationOptions

LEAD_SENTENCES = 2
MAX_OUTLINE = 12


class Summarizer(Protocol):
    strategy: str

    def summarize(self, doc: LoadedDocument, drafts: Sequence[ChunkDraft]) -> str: ...


def _outline(doc: LoadedDocument) -> list[str]:
    seen: dict[str, None] = {}
    for section in doc.sections:
        if section.headings:
            seen.setdefault(section.headings[-1], None)
    return list(seen)[:MAX_OUTLINE]


class ExtractiveSummarizer:
    strategy = "extractive"

    def __init__(self, counter: TokenCounter, *, max_tokens: int = 160) -> None:
        self.counter = counter
        self.max_tokens = max_tokens

    def summarize(self, doc: LoadedDocument, drafts: Sequence[ChunkDraft]) -> str:
        head = self._head(doc)
        budget = self.max_tokens - sum(self.counter.token_lengths(head))
        total = sum(d.tokens for d in drafts)
        text = doc.text
        if total <= budget:
            return "\n".join([*head, text.strip()])
        sentences = [text[a:b] for a, b in sentence_spans(text)]
        picked = self._pick(sentences, budget)
        return "\n".join([*head, " ".join(sentences[i] for i in picked)])

    def _head(self, doc: LoadedDocument) -> list[str]:
        """The title and as much of the outline as fits half the budget (the rest is for sentences)."""
        title = self._cut(doc.title, self.max_tokens // 2)
        outline = _outline(doc)
        joiner = "、" if has_cjk(doc.title + "".join(outline)) else "; "
        room = self.max_tokens // 2 - self.counter.token_lengths([title])[0]
        lengths = self.counter.token_lengths(outline) if outline else []
        kept = []
        for heading, n in zip(outline, lengths, strict=True):
            if n + 1 > room:
                break
            kept.append(heading)
            room -= n + 1
        return [title, joiner.join(kept)] if kept else [title]

    def _cut(self, text: str, tokens: int) -> str:
        spans = self.counter.token_spans(text)
        return text if len(spans) <= tokens else text[: spans[tokens - 1][1]]

    def _pick(self, sentences: list[str], budget: int) -> list[int]:
        tokens = [lexical_tokens(s) for s in sentences]
        freq = Counter(t for toks in tokens for t in set(toks))
        lengths = self.counter.token_lengths(sentences)

        def score(i: int) -> float:
            if not tokens[i]:
                return 0.0
            weight = sum(math.log1p(freq[t]) for t in set(tokens[i]))
            return weight / math.sqrt(len(tokens[i]) + 1)

        order = list(range(min(LEAD_SENTENCES, len(sentences))))
        order += sorted(range(LEAD_SENTENCES, len(sentences)), key=score, reverse=True)
        picked: list[int] = []
        used = 0
        for i in order:
            if used + lengths[i] <= budget:
                picked.append(i)
                used += lengths[i]
        return sorted(picked)


class LLMSummarizer:
    strategy = "llm"
    SYSTEM = (
        "You write short factual summaries of documents for a search index. Write in the document's own "
        "language. State what the document is about and its key facts (names, numbers, dates). No preamble."
    )

    def __init__(self, llm: LLM, *, part_tokens: int = 1500, max_new_tokens: int = 160) -> None:
        self.llm = llm
        self.part_tokens = part_tokens
        self.options = GenerationOptions(temperature=0.0, max_new_tokens=max_new_tokens, seed=0)

    def summarize(self, doc: LoadedDocument, drafts: Sequence[ChunkDraft]) -> str:
        parts = self._parts(doc.title, drafts)
        summaries = [self._ask(f"Title: {doc.title}\n\nDocument:\n{part}\n\nSummary:") for part in parts]
        if len(summaries) == 1:
            return f"{doc.title}\n{summaries[0]}"
        joined = "\n".join(f"- {s}" for s in summaries)
        combined = self._ask(
            f"Title: {doc.title}\n\nSummaries of consecutive parts of one document:\n{joined}\n\n"
            "Combine them into one summary of the whole document:"
        )
        return f"{doc.title}\n{combined}"

    def _ask(self, prompt: str) -> str:
        messages = [ChatMessage("system", self.SYSTEM), ChatMessage("user", prompt)]
        return self.llm.generate(messages, self.options).text.strip()

    def _parts(self, title: str, drafts: Sequence[ChunkDraft]) -> list[str]:
        """Group consecutive chunks into parts that fit the LLM's budget (counted by its tokenizer)."""
        room = min(self.part_tokens, self.llm.context_window - self.options.max_new_tokens - 200)
        parts: list[str] = []
        current: list[str] = []
        for draft in drafts:
            candidate = "\n".join([*current, draft.text])
            if current and self.llm.count_tokens([ChatMessage("user", candidate)]) > room:
                parts.append("\n".join(current))
                current = [draft.text]
            else:
                current.append(draft.text)
        if current:
            parts.append("\n".join(current))
        return parts or [title]
