"""Running a set through our pipeline: ingest `docs/` into a collection, ask every question through
`QueryPipeline.run` (the code path of `POST /v1/query`), score each answer.

    components = Components(load_settings())
    eval_set = load_set(Path("bench/xquad-en"))
    ingest = ingest_set(components, eval_set, default_collection(eval_set))
    system = PipelineSystem(components.query_pipeline(), ingest.collection, eval_set.docs_dir)
    records = run_questions(system, eval_set.questions)
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from ingest.report import STATUSES, FileOutcome
from rag.components import Components
from rag.eval.dataset import EvalSet, Question
from rag.eval.scoring import ContextItem, Outcome, QuestionRecord, score
from rag.eval.summary import summarize
from rag.query.pipeline import QueryPipeline, StageTrace
from rag.query.request import QueryRequest, Stage
from rag_core.errors import BackendError, ConfigError, NotFoundError, RagError, StageError
from rag_core.types import QueryResponse

Conversation = Literal["history", "alone", "gold"]
Progress = Callable[[int, int], None]
System = Callable[[Question], Outcome]
_FATAL = (BackendError, ConfigError, NotFoundError)


def default_collection(eval_set: EvalSet) -> str:
    return f"eval-{eval_set.name}"[:64]


@dataclass(slots=True)
class IngestStats:
    collection: str
    seconds: float
    documents: int
    chunks: int
    new_chunks: int
    files: dict[str, int]
    failures: list[dict[str, str]]
    fresh: bool

    def to_json(self) -> dict[str, Any]:
        return {
            "collection": self.collection,
            "seconds": round(self.seconds, 3),
            "documents": self.documents,
            "chunks": self.chunks,
            "new_chunks": self.new_chunks,
            "files": self.files,
            "failures": self.failures,
            "fresh": self.fresh,
        }


@dataclass(slots=True)
class RunResult:
    name: str  # "full", "no-rerank", "naive-langchain", ...
    records: list[QuestionRecord]
    disabled: list[str] = field(default_factory=list)
    retrieval_only: bool = False

    @property
    def summary(self) -> dict[str, Any]:
        return summarize(self.records)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "disabled": self.disabled,
            "retrieval_only": self.retrieval_only,
            "summary": self.summary,
            "records": [r.to_json() for r in self.records],
        }


def ingest_set(
    components: Components,
    eval_set: EvalSet,
    collection: str,
    *,
    fresh: bool = False,
    progress: Callable[[FileOutcome, int, int], None] | None = None,
) -> IngestStats:
    """Bring the collection in line with `docs/`: new files added, changed replaced, removed pruned."""
    existed = components.catalog.collection(collection) is not None
    if fresh and existed:
        components.index.delete_collection(collection)
    started = time.perf_counter()
    report = components.ingest_pipeline().run([eval_set.docs_dir], collection, prune=True, progress=progress)
    return IngestStats(
        collection=report.collection,
        seconds=time.perf_counter() - started,
        documents=report.documents,
        chunks=report.chunks,
        new_chunks=report.new_chunks,
        files={s: report.count(s) for s in STATUSES},
        failures=[{"path": o.path, "status": o.status, "error": o.error} for o in report.failures],
        fresh=fresh or not existed,
    )


def doc_id_of(source: str, docs_dir: Path) -> str:
    """A bench doc id: the source path relative to the set's docs/ folder."""
    path = Path(source)
    for base in (docs_dir, docs_dir.resolve()):
        try:
            return path.relative_to(base).as_posix()
        except ValueError:
            continue
    return source


def outcome_of(
    response: QueryResponse, docs_dir: Path, retrieval_only: bool, trace: StageTrace | None = None
) -> Outcome:
    stages: dict[str, list[ContextItem]] = {}
    if trace is not None:
        stages["retrieve"] = [
            ContextItem(doc_id_of(h.chunk.source, docs_dir), h.chunk.text) for h in trace.retrieved
        ]
        stages["rerank"] = [ContextItem(doc_id_of(p.source, docs_dir), p.text) for p in trace.reranked]
    return Outcome(
        context=[
            ContextItem(doc_id_of(e.source, docs_dir), e.text, tuple(e.chunk_ids)) for e in response.context
        ],
        stages=stages,
        answer=None if retrieval_only else response.answer,
        cited=[c.id for c in response.citations],
        refused=response.refused,
        timings=dict(response.timings),
        prompt_tokens=response.usage.get("prompt_tokens"),
    )


class PipelineSystem:
    """Our query pipeline as a system under test."""

    def __init__(
        self,
        pipeline: QueryPipeline,
        collection: str,
        docs_dir: Path,
        *,
        retrieval_only: bool = False,
        disabled: frozenset[Stage] = frozenset(),
        conversation: Conversation = "history",
    ) -> None:
        self.pipeline = pipeline
        self.collection = collection
        self.docs_dir = docs_dir
        self.retrieval_only = retrieval_only
        self.disabled = disabled
        self.conversation = conversation

    def __call__(self, question: Question) -> Outcome:
        """Ask the question: with its history ("history", as the chat page would), alone ("alone"), or
        as the set's gold standalone rewrite where it has one, alone ("gold")."""
        text = question.question
        if self.conversation == "gold" and question.standalone:
            text = question.standalone
        request = QueryRequest(
            question=text,
            collection=self.collection,
            retrieval_only=self.retrieval_only,
            disabled=self.disabled,
            history=question.history if self.conversation == "history" else (),
        )
        trace = StageTrace()
        response = self.pipeline.run(request, trace=trace)
        return outcome_of(response, self.docs_dir, self.retrieval_only, trace)

    def warm_up(self, questions: Sequence[Question]) -> None:
        """Load the models (and per-language tokenisers) before timing: one retrieval-only query for the
        first question of each language."""
        firsts = {q.lang: q for q in reversed(questions)}
        for question in firsts.values():
            request = QueryRequest(
                question=question.question, collection=self.collection, retrieval_only=True
            )
            self.pipeline.run(request)


def _fatal(exc: RagError) -> bool:
    cause = exc.cause if isinstance(exc, StageError) else exc
    return isinstance(cause, _FATAL)


def run_questions(
    system: System, questions: Sequence[Question], progress: Progress | None = None
) -> list[QuestionRecord]:
    """Ask and score every question. A question whose run fails with a per-question error (bad input,
    context overflow, a stage failing on it) is recorded with its error; a backend, configuration or
    missing-collection error stops the run, since every other question would fail the same way."""
    records: list[QuestionRecord] = []
    for i, question in enumerate(questions):
        try:
            outcome = system(question)
        except RagError as exc:
            if _fatal(exc):
                raise
            outcome = Outcome(context=[], error=str(exc))
        records.append(score(question, outcome))
        if progress:
            progress(i + 1, len(questions))
    return records


def config_snapshot(components: Components) -> dict[str, Any]:
    settings = components.settings
    return {
        "embedding": components.embedder.model_name,
        "llm": {"backend": settings.llm.backend, "model": settings.llm.model or "bundled"},
        "rerank": components.reranker.name,
        "retrieval": settings.retrieval.model_dump(),
        "chunking": settings.chunking.model_dump(),
        "summary": settings.summary.strategy,
        "answer": settings.answer.model_dump(),
    }
