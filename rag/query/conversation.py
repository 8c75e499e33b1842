"""Reading a question in its conversation: does it follow the earlier turns, and what is searched.

A question follows the conversation when it is lexically cohesive with an earlier user turn: it shares a
content word with one, or it uses a reference word (it, those, 它, 这个: the data files
`rag_core/resources/lang/<lang>/reference_words.txt`). A question that does neither is a new topic and is
searched exactly as asked, whatever came before: "How many vacation days do we get?" after a question
about a capital city is not glued to it.

A follow-up is resolved in one of two ways (`RAG_RETRIEVAL__REWRITE`):
- "context": searched together with the previous user question and the names earlier user turns gave
  (the model or product the conversation is about). No LLM call. Measured on mtrag-dev (docs/eval.md):
  follow-ups find their documents far more often than asked alone, topic shifts as often as alone.
- "llm": the LLM writes a standalone question. Its output is used only if it reads as a question about
  what was asked (a question, sharing a word with the question or the conversation, no citation
  markers, no figure the conversation did not give: an answer is not a query); otherwise "context".
"auto" (the default) is "llm" for a configured model and "context" for the bundled 135M one, whose
rewrites were measured worse than no rewriting; "off" searches every question as asked.

    reader = ConversationReader(llm, "context")
    reader.resolve("What about its payload?", history).query
    # -> "NR-7 What is its battery life? What about its payload?"
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from rag.query.answer import language
from rag.query.citations import MARKER
from rag.query.names import mentions, names_in
from rag_core.language import words
from rag_core.tokens import has_cjk, jieba_module, lexical_tokens, question_terms
from rag_models.llm.base import LLM, ChatMessage, GenerationOptions

Rewrite = Literal["auto", "context", "llm", "off"]
Method = Literal["as-asked", "context", "llm"]
MAX_USER_TURNS = 3  # earlier user turns read for cohesion and names
_STEM = 5  # words match on their first five letters (payload / payloads, recommend / recommended)
_QUESTION_END = re.compile(r"[?？]\s*$")
_DIGITS = re.compile(r"\d+(?:[.,]\d+)?")
INSTRUCTION = {
    "en": (
        "Rewrite the last user question as one standalone question that can be understood without the "
        "conversation. Keep names and details from the conversation that it refers to. Do not answer "
        "it. Output only the question."
    ),
    "zh": (
        "把用户的最后一个问题改写成一个不依赖上下文也能看懂的独立问题，"
        "保留它所指的人名和细节。不要回答它。只输出这个问题。"
    ),
}


@dataclass(frozen=True, slots=True)
class Resolution:
    query: str  # what retrieval and reranking search for; the citation check reads it as the question
    method: Method
    context: str = ""  # the earlier user question the follow-up was read with

    @property
    def follows(self) -> bool:
        return self.method != "as-asked"


class ConversationReader:
    def __init__(self, llm: Callable[[], LLM], mode: Rewrite) -> None:
        self._llm = llm
        self.mode = mode
        self.options = GenerationOptions(temperature=0.0, max_new_tokens=64, seed=0)

    def resolve(self, question: str, history: Sequence[ChatMessage]) -> Resolution:
        users = [m.content.strip() for m in history if m.role == "user" and m.content.strip()]
        users = users[-MAX_USER_TURNS:]
        if self.mode == "off" or not users or not follows(question, users):
            return Resolution(question, "as-asked")
        if self.mode == "llm":
            rewritten = self._rewrite(question, history)
            if rewritten:
                return Resolution(rewritten, "llm", users[-1])
        return Resolution(context_query(question, users), "context", users[-1])

    def _rewrite(self, question: str, history: Sequence[ChatMessage]) -> str:
        turns = [m for m in history if m.role in ("user", "assistant") and m.content.strip()]
        conversation = "\n".join(f"{m.role}: {m.content.strip()[:500]}" for m in turns[-2 * MAX_USER_TURNS :])
        messages = [
            ChatMessage("system", INSTRUCTION[language(question)]),
            ChatMessage("user", f"{conversation}\nuser: {question}"),
        ]
        lines = self._llm().generate(messages, self.options).text.strip().splitlines()
        rewritten = lines[0].strip().strip('"“”') if lines else ""
        asked = question + "\n" + "\n".join(m.content for m in turns if m.role == "user")
        return rewritten if is_query_for(rewritten, asked, max_chars=4 * len(question) + 200) else ""


def follows(question: str, earlier_questions: Sequence[str]) -> bool:
    """Whether the question is lexically cohesive with the earlier user turns: a shared content word or
    a reference word."""
    if any(t in _REFERENCE_WORDS for t in _words(question)):
        return True
    asked = {t[:_STEM] for t in question_terms(question)}
    earlier = {t[:_STEM] for text in earlier_questions for t in lexical_tokens(text)}
    return bool(asked & earlier)


def context_query(question: str, earlier_questions: Sequence[str]) -> str:
    """The follow-up with the previous user question before it, and before both the names earlier user
    turns gave that neither repeats."""
    previous = earlier_questions[-1]
    text = f"{previous} {question}"
    names = [
        name
        for earlier in earlier_questions[:-1]
        for name in sorted(names_in(earlier))
        if not mentions(text, name)
    ]
    return " ".join([*dict.fromkeys(names), text])


def is_query_for(text: str, asked: str, *, max_chars: int) -> bool:
    """Whether LLM output reads as a question about what was asked: a question (ends with a question
    mark or opens with a question word), not too long, no citation markers, sharing a content word with
    what was asked, and no figure that was not asked about (which would be an answer)."""
    if len(text) < 3 or len(text) > max_chars or MARKER.search(text):
        return False
    opens = _words(text)[:1]
    if not _QUESTION_END.search(text) and not (opens and opens[0] in _QUESTION_WORDS):
        return False
    if set(_DIGITS.findall(text)) - set(_DIGITS.findall(asked)):
        return False
    return on_topic(text, asked, max_chars=max_chars)


def on_topic(text: str, question: str, *, max_chars: int) -> bool:
    """Whether LLM output reads as being about the question: not empty or rambling, no citation
    markers (an echoed answer), and sharing a content word with the question."""
    if len(text) < 3 or len(text) > max_chars or MARKER.search(text):
        return False
    asked = {t[:_STEM] for t in question_terms(question)}
    return not asked or bool(asked & {t[:_STEM] for t in lexical_tokens(text)})


def _words(text: str) -> list[str]:
    """Lower-cased words as written (function words kept): Latin-script words, or jieba's words."""
    if has_cjk(text):
        return [w for w in jieba_module().lcut(text) if w.strip()]
    return re.findall(r"[a-z0-9][a-z0-9'’-]*", text.casefold())


_REFERENCE_WORDS = words("reference_words")
_QUESTION_WORDS = words("question_words")
