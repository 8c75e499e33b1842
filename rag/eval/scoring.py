"""What a system under test returns for one question (`Outcome`) and how it is scored (`score`).

Any pipeline can be measured by turning its result into an `Outcome`: ours (rag.eval.runner) and the
naive LangChain baseline (benchmarks/naive_langchain.py) go through the same `score`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from rag.eval.dataset import Question
from rag.eval.metrics import (
    KS,
    REACH_STAGES,
    answer_correct,
    citation_precision,
    context_support,
    groundedness,
    hits_at,
    is_hit,
    reciprocal_rank,
)


@dataclass(frozen=True, slots=True)
class ContextItem:
    doc_id: str  # path relative to the set's docs/ folder
    text: str
    chunk_ids: tuple[str, ...] = ()


@dataclass(slots=True)
class Outcome:
    context: list[ContextItem]
    answer: str | None = None  # None: retrieval only
    cited: list[int] = field(default_factory=list)  # 1-based positions in `context`
    refused: bool = False
    timings: dict[str, float] = field(default_factory=dict)
    prompt_tokens: int | None = None
    error: str = ""
    # what a stage before compression handed on, by stage (REACH_STAGES), for `QuestionRecord.reach`
    stages: dict[str, list[ContextItem]] = field(default_factory=dict)


@dataclass(slots=True)
class QuestionRecord:
    id: str
    question: str
    lang: str
    answerable: bool
    gold_docs: list[str]
    answers: list[str]
    context: list[dict[str, Any]]  # rank, doc_id, chunk_ids, hit
    context_chars: int
    hits: dict[int, bool]
    reciprocal_rank: float
    answer: str | None
    citations: list[dict[str, Any]]  # id, doc_id, hit
    refused: bool
    correct: bool | None
    citation_precision: float | None
    groundedness: float | None
    context_support: float | None
    timings: dict[str, float]
    prompt_tokens: int | None
    error: str = ""
    reach: dict[str, bool] = field(default_factory=dict)  # a hit among what each stage handed on
    turn: str = "single"  # Question.turn: single, follow-up or topic-shift
    gold_rewrite: bool = False  # the set has a standalone rewrite of this question

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["hits"] = {f"hit@{k}": v for k, v in self.hits.items()}
        return data


def _hits(question: Question, items: list[ContextItem]) -> list[bool]:
    return [
        question.answerable
        and is_hit(item.doc_id, item.text, question.gold_docs, question.answers, question.lang)
        for item in items
    ]


def score(question: Question, outcome: Outcome) -> QuestionRecord:
    flags = _hits(question, outcome.context)
    context = [
        {"rank": i + 1, "doc_id": item.doc_id, "chunk_ids": list(item.chunk_ids), "hit": flag}
        for i, (item, flag) in enumerate(zip(outcome.context, flags, strict=True))
    ]
    cited = [n for n in dict.fromkeys(outcome.cited) if 1 <= n <= len(outcome.context)]
    citations = [{"id": n, "doc_id": outcome.context[n - 1].doc_id, "hit": flags[n - 1]} for n in cited]
    answered = outcome.answer is not None and not outcome.refused and not outcome.error
    correct = precision = grounded = support = None
    if outcome.answer is not None and question.answerable:
        correct = (
            False if outcome.refused else answer_correct(outcome.answer, question.answers, question.lang)
        )
    if answered and outcome.answer is not None:
        sources = {i + 1: item.text for i, item in enumerate(outcome.context)}
        grounded = groundedness(outcome.answer, sources, cited)
        support = context_support(outcome.answer, [item.text for item in outcome.context])
        if question.answerable:
            precision = citation_precision([bool(c["hit"]) for c in citations])
    return QuestionRecord(
        id=question.id,
        question=question.question,
        lang=question.lang,
        answerable=question.answerable,
        gold_docs=list(question.gold_docs),
        answers=list(question.answers),
        context=context,
        context_chars=sum(len(item.text) for item in outcome.context),
        hits=hits_at(flags, KS) if question.answerable else {},
        reciprocal_rank=reciprocal_rank(flags),
        answer=outcome.answer,
        citations=citations,
        refused=outcome.refused,
        correct=correct,
        citation_precision=precision,
        groundedness=grounded,
        context_support=support,
        timings=dict(outcome.timings),
        prompt_tokens=outcome.prompt_tokens,
        error=outcome.error,
        reach=_reach(question, outcome, flags),
        turn=question.turn,
        gold_rewrite=question.standalone is not None,
    )


def _reach(question: Question, outcome: Outcome, flags: list[bool]) -> dict[str, bool]:
    """Whether a hit was among what each stage handed on, the final context last: the stage after the
    last True is where the answer was lost."""
    if not question.answerable or not outcome.stages:
        return {}
    reach = {
        stage: any(_hits(question, outcome.stages[stage]))
        for stage in REACH_STAGES
        if stage in outcome.stages
    }
    reach["context"] = any(flags)
    return reach
