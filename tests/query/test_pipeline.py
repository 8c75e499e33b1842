"""The query pipeline end to end with the bundled models: the sample documents ingested by the real ingest
pipeline, the bundled embedder, embedded Chroma, and SmolLM2 through llama.cpp (greedy and seeded).

Generations are few and marked `slow`; refusals decided by the evidence check and retrieval-only queries
need no generation."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from rag.components import Components
from rag.query.answer import REFUSAL, UNSUPPORTED
from rag.query.citations import SUPPORT_THRESHOLD, attribute
from rag.query.pipeline import Delta, Final
from rag.query.request import Filters, QueryRequest, Stage
from rag_core.errors import InvalidInputError, LimitExceeded, NotFoundError
from rag_core.tokens import has_cjk
from rag_core.types import QueryResponse
from rag_models.bundled import BUNDLED_EVIDENCE_TOKENS, BUNDLED_SUPPORT_THRESHOLD
from rag_models.llm.base import ChatMessage
from tests.helpers import write_pdf
from tests.query._support import SAMPLES, SAMPLES_COLLECTION, Corpus
from tests.query.test_corroborate import REPORTS, TARGET

QUESTION = "How long does the NR-7 run on one charge?"
STAGES = {"retrieve", "rerank", "passages", "compress", "generate", "total"}


def ask(
    components: Components, question: str, collection: str = SAMPLES_COLLECTION, **kw: object
) -> QueryResponse:
    return components.query_pipeline().run(QueryRequest(question, collection, **kw))  # type: ignore[arg-type]


def check_shape(response: QueryResponse) -> None:
    """Context ids are 1..n in order; every citation is one of them, with the same fields."""
    assert [e.id for e in response.context] == list(range(1, len(response.context) + 1))
    by_id = {e.id: e for e in response.context}
    for citation in response.citations:
        assert citation.model_dump() == by_id[citation.id].model_dump()


@pytest.mark.slow
def test_answerable_question_gets_a_cited_answer(e2e: Components) -> None:
    response = ask(e2e, QUESTION)
    check_shape(response)
    assert not response.refused and response.answer.strip()
    assert response.answer not in (REFUSAL["en"], UNSUPPORTED["en"])
    assert response.citations and not response.uncited
    assert any(
        Path(c.source).name == "robot-faq.html" and "11 hours" in c.text for c in response.citations
    ), response.citations
    assert response.context[0].source.endswith("robot-faq.html")
    assert response.rewritten_query == QUESTION
    assert "rewrite" not in response.timings  # no history: no rewriting call
    assert set(response.timings) >= STAGES and all(v >= 0 for v in response.timings.values())
    assert response.timings["total"] >= response.timings["generate"]
    assert response.usage["prompt_tokens"] > 0
    assert response.groundedness is not None and 0 < response.groundedness <= 1
    assert response.collection == SAMPLES_COLLECTION


@pytest.mark.parametrize(
    ("question", "lang"),
    [
        ("What is the boiling point of liquid nitrogen?", "en"),
        ("Who won the football world cup in 1998?", "en"),
        ("Which kit did the 2023 firmware release add support for?", "en"),  # the notes are of 2025-26
        ("How long does the NR-8 run on one charge?", "en"),  # the samples describe the NR-7
        ("公司的股票期权如何分配？", "zh"),
        ("新员工的试用期是几个月？", "zh"),
    ],
)
def test_unanswerable_question_is_refused_in_its_language(e2e: Components, question: str, lang: str) -> None:
    response = ask(e2e, question)
    check_shape(response)
    assert response.refused is True
    assert response.answer in (REFUSAL[lang], UNSUPPORTED[lang])
    assert has_cjk(response.answer) == (lang == "zh")
    assert response.citations == []


def test_refusal_streams_as_one_delta(e2e: Components) -> None:
    events = list(e2e.query_pipeline().stream(QueryRequest("公司的股票期权如何分配？", SAMPLES_COLLECTION)))
    assert [type(e) for e in events] == [Delta, Final]
    final = events[-1]
    assert isinstance(final, Final) and isinstance(events[0], Delta)
    assert events[0].text == final.response.answer == REFUSAL["zh"] and final.response.refused


HISTORY = (
    ChatMessage("user", "How long does the NR-7 run on one charge?"),
    ChatMessage("assistant", "11 hours [1]."),
)


@pytest.mark.slow
def test_follow_up_question_is_rewritten_with_the_history(e2e: Components) -> None:
    question = "How long does charging it take?"
    response = ask(e2e, question, history=HISTORY, retrieval_only=True)
    assert response.rewritten_query.strip() and response.rewritten_query != question
    assert "rewrite" in response.timings
    charging = [e for e in response.context if "90 minutes" in e.text]
    assert charging and Path(charging[0].source).name == "robot-faq.html", response.context
    assert response.answer == "" and "generate" not in response.timings


def test_rewrite_switched_off_keeps_the_question(e2e: Components) -> None:
    question = "How long does charging take?"
    response = ask(e2e, question, history=HISTORY, retrieval_only=True, disabled=frozenset({"rewrite"}))
    assert response.rewritten_query == question and "rewrite" not in response.timings


ROBOT_TURNS = (
    ChatMessage("user", "How fast is the NR-7?"),
    ChatMessage("assistant", "Up to 2 metres per second when loaded [1]."),
    ChatMessage("user", "What is its battery life?"),
    ChatMessage("assistant", "11 hours on one charge [1]."),
)
HOTEL_TURNS = (
    ChatMessage("user", "国内出差住宿费每晚上限是多少？"),
    ChatMessage("assistant", "每晚不超过六百元 [1]。"),
)


@pytest.mark.parametrize(
    ("question", "history"),
    [
        ("How many vacation days do we get?", HISTORY),
        ("How many vacation days do we get?", (ChatMessage("user", "What is the capital of Australia?"),)),
        ("公司的股票代码是什么？", HOTEL_TURNS),
    ],
)
def test_a_change_of_topic_is_answered_as_if_asked_alone(
    e2e: Components, question: str, history: tuple[ChatMessage, ...]
) -> None:
    alone = ask(e2e, question, retrieval_only=True)
    after = ask(e2e, question, history=history, retrieval_only=True)
    assert after.rewritten_query == question
    assert [e.text for e in after.context] == [e.text for e in alone.context]


def test_a_chinese_question_on_a_new_topic_is_refused_as_when_asked_alone(e2e: Components) -> None:
    question = "公司的股票代码是什么？"
    alone = ask(e2e, question)
    after = ask(e2e, question, history=HOTEL_TURNS)
    assert alone.refused and after.refused and after.answer == REFUSAL["zh"]


def test_a_third_turn_is_searched_for_the_robot_the_conversation_is_about(e2e: Components) -> None:
    response = ask(e2e, "What about its payload?", history=ROBOT_TURNS, retrieval_only=True)
    assert "NR-7" in response.rewritten_query and "payload" in response.rewritten_query
    assert "450 kg" in response.context[0].text and response.context[0].source.endswith("robot-faq.html")


@pytest.mark.slow
def test_a_third_turn_states_no_figure_of_another_robot(e2e: Components) -> None:
    response = ask(e2e, "What about its payload?", history=ROBOT_TURNS)
    check_shape(response)
    sentences = [s for s in re.split(r"(?<=[.!?])\s+", response.answer) if "250" in s]
    assert all("NR-5" in s for s in sentences), response.answer  # 250 kg is the NR-5's payload
    if not response.refused:
        assert response.citations


def test_retrieval_only_returns_context_without_generating(e2e: Components) -> None:
    response = ask(e2e, "remote work outside the European Union", retrieval_only=True, top_k=2)
    check_shape(response)
    assert 1 <= len(response.context) <= 2
    assert any("European Union" in e.text and e.source.endswith("handbook.md") for e in response.context), (
        response.context
    )
    assert response.answer == "" and response.citations == [] and not response.refused
    assert "generate" not in response.timings and "first_token" not in response.timings
    assert {"retrieve", "rerank", "passages", "total"} <= set(response.timings)
    assert response.usage == {}


@pytest.mark.slow
def test_stream_yields_deltas_then_one_final_with_the_checked_answer(e2e: Components) -> None:
    events = list(e2e.query_pipeline().stream(QueryRequest(QUESTION, SAMPLES_COLLECTION)))
    assert events and isinstance(events[-1], Final)
    assert all(isinstance(e, Delta) for e in events[:-1]) and len(events) > 2
    response = events[-1].response
    check_shape(response)
    raw = "".join(e.text for e in events[:-1] if isinstance(e, Delta))
    assert raw.strip()
    # the final answer is the streamed text with its citations checked against the context
    settings = e2e.settings.answer
    checked = attribute(
        raw,
        {e.id: e.text for e in response.context},
        drop_unsupported=settings.drop_unsupported_sentences,
        question=QUESTION,
    )
    assert not response.refused, response.answer
    if checked.used_ids:
        assert not response.quoted
        assert response.answer == checked.text
        assert [c.id for c in response.citations] == checked.used_ids
        assert response.groundedness == pytest.approx(checked.groundedness, abs=1e-4)
    else:  # nothing the model wrote is supported: the best evidence is quoted instead
        assert response.quoted and response.answer.startswith("The documents say:"), response.answer
        assert [c.id for c in response.citations] == [1]
    assert "first_token" in response.timings
    assert response.timings["first_token"] <= response.timings["total"]


@pytest.mark.parametrize(
    ("question", "filters", "excluded"),
    [
        ("What is the maximum payload of the NR-7?", Filters(file_types=("md", "txt")), "robot-faq.html"),
        (QUESTION, Filters(source_prefix=str(SAMPLES / "handbook")), "robot-faq.html"),
        ("国内出差住宿费每晚不超过多少钱？", Filters(file_types=("md", "html")), "报销制度.txt"),
    ],
    ids=["file_types", "source_prefix", "chinese"],
)
def test_filter_excludes_a_document_from_the_answer_context(
    e2e: Components, question: str, filters: Filters, excluded: str
) -> None:
    unfiltered = ask(e2e, question, retrieval_only=True)
    assert Path(unfiltered.context[0].source).name == excluded  # without the filter it is the best match

    response = ask(e2e, question, filters=filters)
    check_shape(response)
    assert response.context or response.refused  # nothing else to find is a refusal, not an error
    assert all(Path(e.source).name != excluded for e in response.context), response.context
    assert all(Path(c.source).name != excluded for c in response.citations)
    if filters.source_prefix:
        assert all(e.source.startswith(filters.source_prefix) for e in response.context)


def test_invalid_questions_and_unknown_collections(e2e: Components, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(InvalidInputError) as empty:
        ask(e2e, "   ")
    assert empty.value.http_status == 422
    limit = e2e.settings.api.max_question_chars  # the API's limit is the pipeline's
    assert isinstance(ask(e2e, "why? " * (limit // 5), retrieval_only=True), QueryResponse)
    with pytest.raises(LimitExceeded) as too_long:
        ask(e2e, "why? " * (limit // 5 + 1))
    assert too_long.value.http_status == 413 and "RAG_API__MAX_QUESTION_CHARS" in too_long.value.hint
    with pytest.raises(NotFoundError):
        ask(e2e, QUESTION, collection="no-such-collection")
    monkeypatch.setattr(e2e.settings.api, "max_question_chars", 20)
    with pytest.raises(LimitExceeded):
        ask(e2e, "How many vacation days?")


# a real PDF -----------------------------------------------------------------------------------------

PDF_PAGES = [
    (
        "Plant Overview",
        "The Riverside plant assembles bicycle frames for three regional brands. It employs ninety people "
        "on two shifts and runs five welding cells. The plant opened in 1998 and was extended in 2015.",
    ),
    (
        "Sprocket Supply",
        "Sprockets arrive weekly from a supplier in Porto. Each delivery is inspected for tooth wear and "
        "hardness before it is released to the line. Rejected sprockets are returned within five days.",
    ),
    (
        "Emergency Procedures",
        "In a fire alarm, staff leave by the nearest exit and gather at the assembly point. The assembly "
        "point of the Riverside plant is the north car park beside the old water tower. Shift leaders "
        "count their teams there and report to the fire warden.",
    ),
    (
        "Canteen",
        "The canteen serves lunch from noon to two. A vegetarian dish is offered every day, and coffee "
        "is free for all staff.",
    ),
]
PDF_QUESTION = "Where is the assembly point of the Riverside plant?"
PDF_FACT = "water tower"


@pytest.fixture(scope="session")
def pdf_collection(e2e: Components, tmp_path_factory: pytest.TempPathFactory) -> str:
    folder = tmp_path_factory.mktemp("pdf")
    write_pdf(folder / "riverside-guide.pdf", "Riverside Plant Guide", PDF_PAGES)
    report = e2e.ingest_pipeline().run([folder], "pdf")
    assert report.ok and report.documents == 1, report
    return "pdf"


@pytest.mark.slow
def test_citation_maps_to_the_pdf_page_of_the_fact(e2e: Components, pdf_collection: str) -> None:
    response = ask(e2e, PDF_QUESTION, collection=pdf_collection)
    check_shape(response)
    carrying = [e for e in response.context if PDF_FACT in e.text]
    assert carrying, response.context
    assert all(e.page == 3 for e in carrying)
    assert all(e.source.endswith("riverside-guide.pdf") and e.title for e in response.context)
    assert not response.refused, response.answer
    cited = [c for c in response.citations if PDF_FACT in c.text]
    assert cited and all(c.page == 3 for c in cited), response.citations


def test_every_context_item_holds_text_of_its_own_page_only(e2e: Components, pdf_collection: str) -> None:
    response = ask(e2e, PDF_QUESTION, collection=pdf_collection, retrieval_only=True)
    wrong = []
    for item in response.context:
        for page, (_, body) in enumerate(PDF_PAGES, start=1):
            first_sentence = body.split(". ")[0]
            if first_sentence in item.text and item.page != page:
                wrong.append((item.id, item.page, page, first_sentence))
    assert not wrong, wrong


def test_the_prompt_gets_the_passages_cut_to_the_budget_and_retrieval_only_gets_them_whole(
    e2e: Components, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(e2e.settings.answer, "context_tokens", 60)
    pipeline = e2e.query_pipeline()
    for question in (QUESTION, "国内出差的住宿标准是多少？"):
        prepared = pipeline.prepare(QueryRequest(question, SAMPLES_COLLECTION))
        passages, _ = pipeline.prompt_passages(prepared)
        tokens = e2e.embedder.token_lengths
        assert sum(tokens([p.text for p in passages])) <= 60
        assert sum(tokens([p.text for p in prepared.passages])) > 60
        for cut in passages:  # a contiguous window of its passage
            assert any(cut.text in whole.text for whole in prepared.passages)
        whole = ask(e2e, question, retrieval_only=True)
        assert [e.text for e in whole.context] == [p.text for p in prepared.passages]


def test_the_evidence_budget_is_the_setting_the_bundled_models_or_half_the_window(
    e2e: Components, monkeypatch: pytest.MonkeyPatch
) -> None:
    answer, llm = e2e.settings.answer, e2e.settings.llm
    monkeypatch.setattr(answer, "context_tokens", 0)
    assert e2e.query_pipeline().evidence_budget() == BUNDLED_EVIDENCE_TOKENS
    monkeypatch.setattr(llm, "context_window", 2048)  # a model of the user's own
    assert e2e.query_pipeline().evidence_budget() == (2048 - answer.max_new_tokens) // 2
    monkeypatch.setattr(answer, "context_tokens", 123)
    assert e2e.query_pipeline().evidence_budget() == 123


def test_the_support_threshold_is_the_setting_the_bundled_models_or_the_checks(
    e2e: Components, monkeypatch: pytest.MonkeyPatch
) -> None:
    answer, llm = e2e.settings.answer, e2e.settings.llm
    monkeypatch.setattr(answer, "min_support", 0)
    assert e2e.query_pipeline().support_threshold() == BUNDLED_SUPPORT_THRESHOLD
    monkeypatch.setattr(llm, "context_window", 2048)  # a model of the user's own
    assert e2e.query_pipeline().support_threshold() == SUPPORT_THRESHOLD < BUNDLED_SUPPORT_THRESHOLD
    monkeypatch.setattr(answer, "min_support", 0.6)
    assert e2e.query_pipeline().support_threshold() == 0.6


FOUNDING = (
    "The Zorbex company was founded in Veltrana in 1950 by two engineers. It first made pumps for farms. "
    "Its factory had a red roof. The founders later moved to the coast."
)
CITY = (
    "Veltrana is a market city in the north. The Quillon river flows through Veltrana from east to west. "
    "The town hall stands on the main square. Trams run every ten minutes."
)


def test_a_multi_hop_question_gets_both_documents_whole(components: Components, corpus: Corpus) -> None:
    corpus.add(corpus.doc("founding", [FOUNDING]), corpus.doc("city", [CITY]))
    question = "Which river flows through the city where the Zorbex company was founded?"
    response = components.query_pipeline().run(QueryRequest(question, "kb", retrieval_only=True))
    assert {e.text for e in response.context} == {FOUNDING, CITY}


@pytest.mark.parametrize("corroboration", [True, False])
def test_the_figure_several_documents_report_leads_the_context(
    components: Components, corpus: Corpus, corroboration: bool
) -> None:
    corpus.add(
        corpus.doc("plan", [TARGET.text]), *(corpus.doc(f"report-{i}", [t]) for i, t in enumerate(REPORTS))
    )
    disabled: frozenset[Stage] = frozenset() if corroboration else frozenset({"corroboration"})
    request = QueryRequest("2022年鸿澜汽车交付量", "kb", retrieval_only=True, disabled=disabled)
    first = components.query_pipeline().run(request).context[0]
    assert ("57万辆" in first.text) == corroboration, first.text
