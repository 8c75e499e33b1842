"""Two-level hybrid retrieval on a real index: the bundled (English-only) embedder, embedded Chroma and
the catalog's BM25 (jieba for Chinese)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from rag.query.request import Filters
from rag.query.retrieve import HybridRetriever
from rag_core.query_settings import RetrievalSettings
from tests.helpers import CountingEmbedder, shared_embedder
from tests.query._support import Corpus, RecordingIndex, open_corpus, own_components

ROBOT = [
    "The NR-7 warehouse robot runs for eleven hours on one battery charge.",
    "Lidar sensors stop the robot when a person steps into its path.",
]
CATS = [
    "Cats sleep for most of the day and hunt at dawn.",
    "A cat grooms its fur with a rough tongue.",
]
TAXES = ["Income tax returns must be filed before the end of April each year."]
ZH_LEAVE = ["员工每年享有十五天带薪年假，需提前两周向直属主管申请。", "病假需要医院开具的证明。"]
ZH_TRAVEL = ["国内出差住宿费每晚不超过六百元。", "出差优先乘坐高铁二等座。"]

SEARCHES = {"search_chunks", "lexical_chunks", "search_summaries", "lexical_summaries"}


def retriever(corpus: Corpus, **settings: object) -> tuple[HybridRetriever, RecordingIndex, CountingEmbedder]:
    index = RecordingIndex(corpus.index)
    embedder = CountingEmbedder(shared_embedder())
    return (
        HybridRetriever(index, embedder, RetrievalSettings(**settings)),  # type: ignore[arg-type]
        index,
        embedder,
    )


@pytest.fixture(scope="module")
def mixed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Corpus]:
    """English and Chinese documents, written once for the read-only tests of this module."""
    components = own_components(tmp_path_factory.mktemp("retrieve") / "data")
    corpus = open_corpus(components)
    corpus.add(
        corpus.doc("robot", ROBOT, title="NR-7 manual"),
        corpus.doc("cats", CATS, title="Cats"),
        corpus.doc("taxes", TAXES, title="Finance notes"),
        corpus.doc("leave", ZH_LEAVE, title="年假制度"),
        corpus.doc("travel", ZH_TRAVEL, title="差旅制度"),
    )
    yield corpus
    components.catalog.close()


def test_chinese_question_gets_no_dense_weight_and_bm25_finds_the_passage(mixed: Corpus) -> None:
    hybrid, index, embedder = retriever(mixed)
    result = hybrid.retrieve(mixed.info, "员工每年有多少天带薪年假？", Filters())
    assert result.dense_weight == 0.0
    assert embedder.calls == 0  # the question is not even embedded
    assert index.methods() == {"lexical_chunks", "lexical_summaries"}
    assert result.chunks, "BM25 (jieba) found nothing"
    top = result.chunks[0]
    assert top.chunk.doc_id == "leave" and "十五天带薪年假" in top.chunk.text
    assert "dense" not in top.scores and top.scores["lexical"] > 0
    assert result.documents[0].summary.doc_id == "leave"


def test_english_question_uses_dense_and_lexical(mixed: Corpus) -> None:
    hybrid, index, embedder = retriever(mixed)
    result = hybrid.retrieve(mixed.info, "How long does the NR-7 robot run on one battery charge?", Filters())
    assert result.dense_weight == pytest.approx(1.0)
    assert embedder.calls == 1
    assert index.methods() == SEARCHES
    top = result.chunks[0]
    assert top.chunk.id == mixed.writes["robot"].chunks[0].id
    assert top.scores["dense"] > 0.3 and top.scores["lexical"] > 0
    assert top.scores["fused"] == pytest.approx(top.score)


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("What is the hotel limit per night on domestic trips?", "travel"),
        ("猫一天大部分时间在睡觉吗？", "cats"),
        ("所得税申报的截止日期是什么时候？", "taxes"),
    ],
)
def test_a_question_finds_documents_in_the_other_language_through_the_dictionary(
    mixed: Corpus, question: str, expected: str
) -> None:
    """The English-only embedder cannot cross languages and BM25 cannot match words of another
    language: the question's words translated by dictionary (CC-CEDICT) find the document."""
    hybrid, _, _ = retriever(mixed)
    result = hybrid.retrieve(mixed.info, question, Filters())
    assert result.chunks[0].chunk.doc_id == expected, [h.chunk.doc_id for h in result.chunks]
    assert result.chunks[0].scores["translated"] > 0
    without, _, _ = retriever(mixed, translate=False)
    found = without.retrieve(mixed.info, question, Filters()).chunks
    assert [h.chunk.doc_id for h in found[:1]] != [expected]


def test_ablation_switches_off_one_retriever(mixed: Corpus) -> None:
    hybrid, index, _ = retriever(mixed)
    question = "How long does the NR-7 robot run on one battery charge?"
    dense_only = hybrid.retrieve(mixed.info, question, Filters(), frozenset({"lexical"}))
    assert index.methods() == {"search_chunks", "search_summaries"}
    assert dense_only.chunks[0].chunk.doc_id == "robot"
    index.calls.clear()
    lexical_only = hybrid.retrieve(mixed.info, question, Filters(), frozenset({"dense", "summaries"}))
    assert index.methods() == {"lexical_chunks"}
    assert lexical_only.dense_weight == 0.0 and lexical_only.documents == []
    assert lexical_only.chunks[0].chunk.doc_id == "robot"


@pytest.mark.parametrize(
    ("filters", "allowed"),
    [
        (Filters(source_prefix="/docs/hr/"), {"leave-en", "holidays"}),
        (Filters(file_types=("md",)), {"leave-en", "robot-md"}),
        (Filters(source_prefix="/docs/hr/", file_types=("txt",)), {"holidays"}),
    ],
    ids=["source_prefix", "file_types", "both"],
)
def test_filters_exclude_documents_from_every_search(
    corpus: Corpus, filters: Filters, allowed: set[str]
) -> None:
    corpus.add(
        corpus.doc("robot", ROBOT, source="/docs/eng/robot.txt", title="NR-7 manual"),
        corpus.doc(
            "robot-md",
            ["The NR-5 robot carries two hundred kilograms."],
            source="/docs/eng/nr5.md",
            file_type="md",
        ),
        corpus.doc(
            "leave-en",
            ["Full-time employees earn two vacation days per month."],
            source="/docs/hr/leave.md",
            file_type="md",
        ),
        corpus.doc(
            "holidays",
            ["The office is closed on public holidays; robot charging continues overnight."],
            source="/docs/hr/holidays.txt",
        ),
    )
    question = "How long does the NR-7 robot run on one battery charge?"
    hybrid, index, _ = retriever(corpus)
    unfiltered = hybrid.retrieve(corpus.info, question, Filters())
    assert unfiltered.chunks[0].chunk.doc_id == "robot"  # the excluded document is the best match
    index.calls.clear()

    result = hybrid.retrieve(corpus.info, question, filters)
    assert index.methods() == SEARCHES
    for method, scope, found in index.calls:
        assert scope is not None and set(scope) <= allowed, (method, scope)
        assert set(found) <= allowed, (method, found)
    assert result.chunks and {h.chunk.doc_id for h in result.chunks} <= allowed
    assert {d.summary.doc_id for d in result.documents} <= allowed


def test_filter_matching_nothing_returns_nothing(mixed: Corpus) -> None:
    hybrid, _, _ = retriever(mixed)
    result = hybrid.retrieve(mixed.info, "robot battery", Filters(source_prefix="/nowhere/"))
    assert result.chunks == [] and result.documents == []


def test_summaries_pick_documents_but_global_search_finds_what_they_missed(corpus: Corpus) -> None:
    """The summary level restricts the in-document searches to the documents it picked; the global
    search still finds the answer in a document whose (misleading) summary was not picked."""
    guide = corpus.doc(
        "guide",
        [
            "Keep the NR-7 battery clean and dry.",
            "Store a spare NR-7 battery at room temperature.",
        ],
        title="NR-7 battery charging guide",
        summary="NR-7 battery charging guide: how to charge the NR-7 battery, charging time, battery care.",
    )
    answer = corpus.doc(
        "minutes",
        ["A full charge of the NR-7 battery takes ninety minutes at the docking station."],
        title="Meeting minutes",
        summary="Minutes of the weekly canteen committee: lunch menu and opening hours.",
    )
    cats = corpus.doc("cats", CATS, title="Cats", summary="Cats and their habits.")
    taxes = corpus.doc("taxes", TAXES, title="Finance notes", summary="Income tax deadlines.")
    corpus.add(guide, answer, cats, taxes)
    hybrid, index, _ = retriever(corpus, summary_docs=1)
    result = hybrid.retrieve(corpus.info, "How long does charging the NR-7 battery take?", Filters())

    assert [d.summary.doc_id for d in result.documents] == ["guide"]
    scoped = [(m, found) for m, scope, found in index.calls if scope == ["guide"]]
    assert {m for m, _ in scoped} == {"search_chunks", "lexical_chunks"}
    assert all(set(found) <= {"guide"} for _, found in scoped)
    global_searches = {m for m, scope, _ in index.calls if scope is None}
    assert {"search_chunks", "lexical_chunks"} <= global_searches
    top_ids = [h.chunk.id for h in result.chunks[:2]]
    assert answer.chunks[0].id in top_ids, [h.chunk.text for h in result.chunks]


def test_without_summary_level_only_global_searches_run(mixed: Corpus) -> None:
    hybrid, index, _ = retriever(mixed, summary_docs=0)
    result = hybrid.retrieve(mixed.info, "How long does the NR-7 robot run on one battery charge?", Filters())
    assert result.documents == []
    assert index.methods() == {"search_chunks", "lexical_chunks"}
    # the one scoped search is the translated question's, among the documents in the other language
    assert all(scope is None or set(scope) == {"leave", "travel"} for _, scope, _ in index.calls)
    assert result.chunks[0].chunk.doc_id == "robot"
