"""The query pipeline: rewrite -> (expand) -> retrieve (two-level, hybrid) -> rerank -> passages ->
compress (for the prompt) -> answer.

Each stage is timed and its failure is reported with the stage's name. `run` returns the response of
`POST /v1/query`; `stream` yields text deltas and then the same response.

    pipeline = components.query_pipeline()
    response = pipeline.run(QueryRequest("How many points ...?", "default"))
    for event in pipeline.stream(request): ...   # Delta(text) ..., then Final(response)
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

from rag.query.answer import REFUSAL, Answerer, language
from rag.query.citations import SUPPORT_THRESHOLD, CrossLanguage
from rag.query.compress import ContextCompressor
from rag.query.conversation import ConversationReader, Resolution, Rewrite
from rag.query.corroborate import Corroboration
from rag.query.evidence import EvidenceStrength
from rag.query.expand import NO_EXPANSION, Expansion, QueryExpander
from rag.query.passages import Passage, PassageBuilder, merge_chunks
from rag.query.request import QueryRequest, checked_question
from rag.query.rerank import Reranker
from rag.query.retrieve import HybridRetriever
from rag.query.terms import QueryTerms
from rag_core.cancel import CancelToken
from rag_core.errors import StageError
from rag_core.settings import Settings
from rag_core.tokens import script_of
from rag_core.types import Citation, Evidence, QueryResponse, ScoredChunk
from rag_models.bundled import (
    BUNDLED_E5_CROSS_LANGUAGE,
    BUNDLED_E5_MIN_DENSE,
    BUNDLED_EVIDENCE_TOKENS,
    BUNDLED_SUPPORT_THRESHOLD,
)
from rag_models.e5_bundled import E5_NAME
from rag_models.llm.base import LLM, ChatMessage, GenerationOptions
from rag_models.llm.common import CountedStream, count_text_tokens, default_options
from vectorstore.index import TwoLevelIndex, same_embedder
from vectorstore.lexical import TermStats
from vectorstore.records import CollectionInfo

MIN_DERIVED_BUDGET = 64


@dataclass(frozen=True, slots=True)
class Delta:
    text: str


@dataclass(frozen=True, slots=True)
class Final:
    response: QueryResponse


@dataclass(slots=True)
class StageTrace:
    """What the stages before compression handed on, for measuring where answers are lost (`rag eval`):
    the fused candidates given to the reranker, and the top passages after reranking, whole."""

    retrieved: list[ScoredChunk] = field(default_factory=list)
    reranked: list[Passage] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class _Prompt:
    answerer: Answerer  # with the LLM it answers through
    messages: list[ChatMessage]
    used: list[Passage]  # the passages the prompt holds
    options: GenerationOptions
    prompt_tokens: int


@dataclass(slots=True)
class _Prepared:
    request: QueryRequest
    info: CollectionInfo
    resolution: Resolution
    expansion: Expansion
    passages: list[Passage]  # whole, best first
    dense_weight: float
    timings: dict[str, float] = field(default_factory=dict)


@contextmanager
def _stage(name: str, timings: dict[str, float], cancel: CancelToken | None = None) -> Iterator[None]:
    """Time a stage and name it in its errors; with `cancel`, raise its deadline's error before starting
    once the deadline has passed."""
    if cancel is not None:
        cancel.check()
    started = time.perf_counter()
    try:
        yield
    except StageError:
        raise
    except Exception as exc:
        raise StageError(name, exc) from exc
    finally:
        timings[name] = timings.get(name, 0.0) + time.perf_counter() - started


def _evidence(passages: list[Passage]) -> list[Evidence]:
    return [
        Evidence(
            id=i + 1,
            doc_id=p.doc_id,
            source=p.source,
            title=p.title,
            page=p.page,
            section=p.section,
            text=p.text,
            score=round(p.score, 6),
            chunk_ids=p.chunk_ids,
        )
        for i, p in enumerate(passages)
    ]


class QueryPipeline:
    def __init__(
        self,
        *,
        settings: Settings,
        index: TwoLevelIndex,
        retriever: HybridRetriever,
        reranker: Reranker,
        compressor: ContextCompressor,
        llm: Callable[[], LLM],
    ) -> None:
        self.settings = settings
        self.index = index
        self.retriever = retriever
        self.reranker = reranker
        self.compressor = compressor
        self.passages = PassageBuilder(
            index.catalog,
            passage_chars=settings.retrieval.passage_chars,
            context_chars=settings.retrieval.context_chars,
        )
        self._llm = llm
        self.conversation = ConversationReader(llm, self.rewrite_mode())
        self.expander = QueryExpander(llm, settings.retrieval)
        rerank = settings.rerank
        self.corroboration = Corroboration(rerank.corroboration_weight, rerank.corroboration_similarity)

    def run(
        self, request: QueryRequest, cancel: CancelToken | None = None, trace: StageTrace | None = None
    ) -> QueryResponse:
        """The response of `POST /v1/query`: the stages called in turn, the answer generated whole."""
        started = time.perf_counter()
        response, prepared, prompt = self._before_generation(request, cancel, trace)
        if prompt is None:
            return _timed(response, prepared.timings, started)
        with _stage("generate", prepared.timings):
            llm = prompt.answerer.llm
            generation = llm.generate(prompt.messages, prompt.options, cancel)
            completion_tokens = generation.completion_tokens or count_text_tokens(llm, generation.text)
        if generation.finish_reason == "cancelled" and cancel is not None:
            cancel.check()
        return self._after_generation(response, prepared, prompt, generation.text, completion_tokens, started)

    def stream(
        self, request: QueryRequest, cancel: CancelToken | None = None, trace: StageTrace | None = None
    ) -> Iterator[Delta | Final]:
        """Text deltas of the model's draft answer as it is generated, then the checked response."""
        started = time.perf_counter()
        response, prepared, prompt = self._before_generation(request, cancel, trace)
        if prompt is None:
            if response.refused:
                yield Delta(response.answer)
            yield Final(_timed(response, prepared.timings, started))
            return
        timings = prepared.timings
        with _stage("generate", timings):
            generation = CountedStream(prompt.answerer.llm, prompt.messages, prompt.options, cancel)
            for delta in generation:
                timings.setdefault("first_token", time.perf_counter() - started)
                yield Delta(delta)
            completion_tokens = generation.completion_tokens
        yield Final(
            self._after_generation(response, prepared, prompt, generation.text, completion_tokens, started)
        )

    def _before_generation(
        self, request: QueryRequest, cancel: CancelToken | None, trace: StageTrace | None
    ) -> tuple[QueryResponse, _Prepared, _Prompt | None]:
        """Every stage before the model: the response so far, and the prompt, or None when nothing is
        to be generated (retrieval only, or refused for want of evidence, with the response saying so)."""
        prepared = self.prepare(request, trace, cancel)
        response = QueryResponse(
            rewritten_query=prepared.resolution.query,
            expanded_queries=list(prepared.expansion.queries),
            hypothetical_answer=prepared.expansion.hypothetical,
            collection=request.collection,
            context=_evidence(prepared.passages),
        )
        if request.retrieval_only:
            return response, prepared, None
        answer = self.settings.answer
        with _stage("compress", prepared.timings):
            passages, evidence = self.prompt_passages(prepared)
        if not passages or not evidence.sufficient(answer.min_term_coverage, *self.dense_thresholds()):
            response.answer, response.refused = REFUSAL[language(request.question)], True
            return response, prepared, None
        with _stage("prompt", prepared.timings):
            llm = self._llm()
            options = default_options(self.settings.llm).with_(max_new_tokens=answer.max_new_tokens)
            resolution = prepared.resolution
            earlier = resolution.context if resolution.method == "context" else ""
            asked = resolution.query if resolution.method == "llm" else request.question
            answerer = Answerer(llm)
            messages, used = answerer.messages(asked, passages, options.max_new_tokens, earlier=earlier)
            prompt_tokens = llm.count_tokens(messages)
        return response, prepared, _Prompt(answerer, messages, used, options, prompt_tokens)

    def _after_generation(
        self,
        response: QueryResponse,
        prepared: _Prepared,
        prompt: _Prompt,
        text: str,
        completion_tokens: int,
        started: float,
    ) -> QueryResponse:
        """The model's answer checked against its sources and put into the response with its citations."""
        answer = self.settings.answer
        final = prompt.answerer.finish(
            prepared.resolution.query,
            text,
            prompt.used,
            withhold_unsupported=answer.withhold_unsupported,
            drop_unsupported=answer.drop_unsupported_sentences,
            quote_unsupported=answer.quote_unsupported,
            support_threshold=self.support_threshold(),
            across=self.cross_language(),
        )
        response.context = _evidence(prompt.used)
        response.answer = final.text
        response.refused = final.refused
        response.quoted = final.quoted
        response.usage = {"prompt_tokens": prompt.prompt_tokens, "completion_tokens": completion_tokens}
        if final.cited is not None:
            by_id = {e.id: e for e in response.context}
            response.citations = [Citation(**by_id[i].model_dump()) for i in final.cited.used_ids]
            response.uncited = not response.citations
            response.groundedness = round(final.cited.groundedness, 4)
        return _timed(response, prepared.timings, started)

    def prepare(
        self, request: QueryRequest, trace: StageTrace | None = None, cancel: CancelToken | None = None
    ) -> _Prepared:
        """Rewrite, retrieve, rerank and build the passages; `trace`, when given, receives what retrieval
        and reranking handed on. The question is checked here, once for every caller; `cancel`'s deadline
        is checked between stages."""
        question = checked_question(request.question, self.settings.api.max_question_chars)
        timings: dict[str, float] = {}
        info = same_embedder(self.index.collection(request.collection), self.retriever.embedder.model_name)
        resolution = Resolution(question, "as-asked")
        if request.history and "rewrite" not in request.disabled:
            with _stage("rewrite", timings, cancel):
                resolution = self.conversation.resolve(question, request.history)
        query = resolution.query
        expansion = NO_EXPANSION
        if self.expander.enabled and "expand" not in request.disabled:
            with _stage("expand", timings, cancel):
                expansion = self.expander.expand(query)
        with _stage("retrieve", timings, cancel):
            retrieval = self.retriever.retrieve(info, query, request.filters, request.disabled, expansion)
        top_k = request.top_k or self.settings.retrieval.top_k
        with _stage("rerank", timings, cancel):
            candidates = retrieval.chunks[: self.settings.retrieval.rerank_candidates]
            if "rerank" not in request.disabled:
                candidates = self.reranker.rerank(query, candidates, len(candidates))
            if "corroboration" not in request.disabled:
                candidates = self.corroboration.rerank(query, candidates)
        if trace is not None:
            trace.retrieved = retrieval.chunks[: self.settings.retrieval.rerank_candidates]
            trace.reranked = merge_chunks(candidates)[:top_k]
        with _stage("passages", timings, cancel):
            passages = self.passages.build(info, candidates, top_k)
        return _Prepared(request, info, resolution, expansion, passages, retrieval.dense_weight, timings)

    def prompt_passages(self, prepared: _Prepared) -> tuple[list[Passage], EvidenceStrength]:
        """The passages cut to the evidence budget (whole when they fit), and how strongly they
        support answering at all."""
        passages = prepared.passages
        if "compression" not in prepared.request.disabled:
            passages = self.compressor.fit(prepared.resolution.query, passages, self.evidence_budget())
        terms = QueryTerms.of(prepared.resolution.query, TermStats(self.index.catalog, prepared.info))
        script = script_of(prepared.request.question)
        return passages, EvidenceStrength.measure(terms, passages, prepared.dense_weight, script)

    def evidence_budget(self) -> int:
        """The evidence budget in embedder tokens: the setting, else the bundled model's measured
        budget, else half of the LLM's context window left after the answer."""
        answer = self.settings.answer
        if answer.context_tokens:
            return answer.context_tokens
        if self._bundled_llm():
            return BUNDLED_EVIDENCE_TOKENS
        return max(MIN_DERIVED_BUDGET, (self._llm().context_window - answer.max_new_tokens) // 2)

    def dense_thresholds(self) -> tuple[float, float]:
        """The refusal stage's dense thresholds, for passages in the question's script and in the other:
        the setting for both, unless it was left at its default and the embedder is the bundled
        multilingual one, whose scores sit in a narrow high band and are lower across languages."""
        answer = self.settings.answer
        if "min_dense_score" not in answer.model_fields_set and self.retriever.embedder.model_name == E5_NAME:
            return BUNDLED_E5_MIN_DENSE
        return answer.min_dense_score, answer.min_dense_score

    def cross_language(self) -> CrossLanguage | None:
        """How the citation check compares an answer with a source in the other script: by the embedder's
        similarity of the two sentences, at the setting, else at the bundled multilingual model's measured
        threshold; None (words only) for other embedders unless set, and for the bundled 135M LLM, whose
        sentences are held to the source's own words: the embedder cannot tell which figure of a source
        sentence a translated claim gives ("international trips get 100 yuan" scores higher against
        "domestic 100 yuan a day, international 50 dollars" than the right answer does)."""
        threshold = self.settings.answer.cross_language_support
        if not threshold and self.retriever.embedder.model_name == E5_NAME and not self._bundled_llm():
            threshold = BUNDLED_E5_CROSS_LANGUAGE
        if not threshold:
            return None
        embedder = self.retriever.embedder

        def similarity(sentence: str, others: Sequence[str]) -> list[float]:
            vectors = embedder.embed_array([sentence, *others], query=True)
            return [float(v) for v in vectors[1:] @ vectors[0]]

        return CrossLanguage(similarity, threshold)

    def rewrite_mode(self) -> Rewrite:
        """How follow-ups are resolved: the setting, where "auto" is the LLM for a configured model and
        the earlier question as context for the bundled one (its rewrites measured worse than none)."""
        mode = self.settings.retrieval.rewrite
        if mode != "auto":
            return mode
        return "context" if self._bundled_llm() else "llm"

    def support_threshold(self) -> float:
        """The citation check's support threshold: the setting, else the bundled model's, else the
        check's default."""
        if self.settings.answer.min_support:
            return self.settings.answer.min_support
        return BUNDLED_SUPPORT_THRESHOLD if self._bundled_llm() else SUPPORT_THRESHOLD

    def _bundled_llm(self) -> bool:
        llm = self.settings.llm
        return llm.backend == "llamacpp" and not llm.model and not llm.context_window


def _timed(response: QueryResponse, timings: dict[str, float], started: float) -> QueryResponse:
    timings["total"] = time.perf_counter() - started
    response.timings = {k: round(v, 4) for k, v in timings.items()}
    return response
