"""Query rewriting: a follow-up question plus the conversation becomes a standalone question.

No LLM call when there is no history (the question is already standalone).

    QueryRewriter(llm).rewrite("And its population?", history)   # -> "What is the population of Paris?"
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from rag.llm.base import LLM, ChatMessage, GenerationOptions
from rag.query.answer import language
from rag.query.citations import MARKER
from vectorstore.lexical_tokens import lexical_tokens, question_terms

MAX_TURNS = 6
INSTRUCTION = {
    "en": (
        "Rewrite the last user question as one standalone question that can be understood without the "
        "conversation. Keep names and details from the conversation that it refers to. "
        "Output only the question."
    ),
    "zh": (
        "把用户的最后一个问题改写成一个不依赖上下文也能看懂的独立问题，"
        "保留它所指的人名和细节。只输出这个问题。"
    ),
}


class QueryRewriter:
    def __init__(self, llm: Callable[[], LLM]) -> None:
        self._llm = llm
        self.options = GenerationOptions(temperature=0.0, max_new_tokens=64, seed=0)

    def rewrite(self, question: str, history: Sequence[ChatMessage]) -> str:
        turns = [m for m in history if m.role in ("user", "assistant") and m.content.strip()][-MAX_TURNS:]
        if not turns:
            return question
        lang = language(question)
        conversation = "\n".join(f"{m.role}: {m.content.strip()[:500]}" for m in turns)
        prompt = f"{conversation}\nuser: {question}"
        messages = [ChatMessage("system", INSTRUCTION[lang]), ChatMessage("user", prompt)]
        text = self._llm().generate(messages, self.options).text.strip().splitlines()
        rewritten = text[0].strip().strip('"“”') if text else ""
        if on_topic(rewritten, question, max_chars=4 * len(question) + 200):
            return rewritten
        last_user = next((m.content for m in reversed(turns) if m.role == "user"), "")
        return f"{last_user} {question}".strip()


def on_topic(text: str, question: str, *, max_chars: int) -> bool:
    """Whether LLM output reads as being about the question: not empty or rambling, no citation
    markers (an echoed answer), and sharing a content word with the question."""
    if len(text) < 3 or len(text) > max_chars or MARKER.search(text):
        return False
    asked = {t[:5] for t in question_terms(question)}
    return not asked or bool(asked & {t[:5] for t in lexical_tokens(text)})
