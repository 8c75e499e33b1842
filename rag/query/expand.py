"""Query expansion: other phrasings of the question (multi-query) and a passage that would answer it
(HyDE), written by the LLM and searched beside the question.

Both are off by default: with the bundled 135M model they cost seconds per question and did not improve
retrieval (measured in docs/eval.md). With a real Llama-3 on a GPU they may pay; switch them on with
`RAG_RETRIEVAL__MULTI_QUERY=3` and `RAG_RETRIEVAL__HYDE=true` and measure with `rag eval`.

    expansion = QueryExpander(llm, settings.retrieval).expand("How tall is the Eiffel Tower?")
    expansion.queries       # ("Eiffel Tower height in metres", ...): searched dense and BM25
    expansion.hypothetical  # "The Eiffel Tower is 330 metres tall ...": searched dense only
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from rag.query.conversation import on_topic
from rag_core.query_settings import RetrievalSettings
from rag_models.llm.base import LLM, ChatMessage, GenerationOptions

MULTI_QUERY = (
    "Write {n} different search queries that would find documents answering the user's question. "
    "Use other words and synonyms. One query per line, nothing else, in the question's language."
)
HYDE = (
    "Write a short passage, as an encyclopedia or news article would, that answers the user's "
    "question. Write only the passage, in the question's language."
)
_LIST_PREFIX = re.compile(r"^\s*(?:[-*•]|\d+[.)、:]|query\s*\d*\s*:)\s*", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Expansion:
    queries: tuple[str, ...] = ()
    hypothetical: str = ""

    @property
    def empty(self) -> bool:
        return not self.queries and not self.hypothetical


NO_EXPANSION = Expansion()


class QueryExpander:
    def __init__(self, llm: Callable[[], LLM], settings: RetrievalSettings) -> None:
        self._llm = llm
        self.settings = settings

    @property
    def enabled(self) -> bool:
        return self.settings.multi_query > 0 or self.settings.hyde

    def expand(self, question: str) -> Expansion:
        queries: tuple[str, ...] = ()
        hypothetical = ""
        if self.settings.multi_query > 0:
            queries = self._phrasings(question, self.settings.multi_query)
        if self.settings.hyde:
            hypothetical = self._hypothetical(question)
        return Expansion(queries, hypothetical)

    def _phrasings(self, question: str, n: int) -> tuple[str, ...]:
        text = self._generate(MULTI_QUERY.format(n=n), question, max_new_tokens=24 * n)
        seen = {question.casefold()}
        kept: list[str] = []
        for line in text.splitlines():
            query = _LIST_PREFIX.sub("", line).strip().strip('"“”')
            if query.casefold() not in seen and on_topic(query, question, max_chars=300):
                seen.add(query.casefold())
                kept.append(query)
        return tuple(kept[:n])

    def _hypothetical(self, question: str) -> str:
        text = " ".join(self._generate(HYDE, question, max_new_tokens=96).split())
        return text if on_topic(text, question, max_chars=2000) else ""

    def _generate(self, instruction: str, question: str, *, max_new_tokens: int) -> str:
        messages = [ChatMessage("system", instruction), ChatMessage("user", question)]
        options = GenerationOptions(temperature=0.0, max_new_tokens=max_new_tokens, seed=0)
        return self._llm().generate(messages, options).text
