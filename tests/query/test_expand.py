"""Query expansion: which LLM output is kept, and the pipeline searching the expansions (bundled SmolLM2)."""

from __future__ import annotations

import pytest

from rag.components import Components
from rag.query.conversation import on_topic
from rag.query.request import QueryRequest
from tests.query._support import SAMPLES_COLLECTION

QUESTION = "How long does the NR-7 run on one charge?"


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("NR-7 battery life per charge", True),
        ("NR-7 电池续航时间", True),
        ("What is the capital of France?", False),  # drifted to another topic
        ("The NR-7 runs 11 hours [1].", False),  # an echoed answer with citation markers
        ("", False),
        ("NR-7 " * 100, False),  # rambling
    ],
)
def test_only_expansions_about_the_question_are_kept(text: str, kept: bool) -> None:
    assert on_topic(text, QUESTION, max_chars=300) is kept


def test_chinese_expansion_shares_a_segmented_word() -> None:
    assert on_topic("扫地机器人的电池能用多久", "扫地机器人充一次电能工作多长时间？", max_chars=300)
    assert not on_topic("法国的首都是巴黎", "扫地机器人充一次电能工作多长时间？", max_chars=300)


@pytest.mark.slow
def test_expansions_are_searched_and_returned(e2e: Components, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(e2e.settings.retrieval, "multi_query", 2)
    monkeypatch.setattr(e2e.settings.retrieval, "hyde", True)
    pipeline = e2e.query_pipeline()
    response = pipeline.run(QueryRequest(QUESTION, SAMPLES_COLLECTION, retrieval_only=True))
    assert "expand" in response.timings
    assert response.expanded_queries or response.hypothetical_answer
    assert len(response.expanded_queries) <= 2 and QUESTION not in response.expanded_queries
    assert all(on_topic(q, QUESTION, max_chars=300) for q in response.expanded_queries)
    assert response.context and response.context[0].source.endswith("robot-faq.html")
    assert any("11 hours" in e.text for e in response.context), response.context

    off = pipeline.run(
        QueryRequest(QUESTION, SAMPLES_COLLECTION, retrieval_only=True, disabled=frozenset({"expand"}))
    )
    assert "expand" not in off.timings
    assert off.expanded_queries == [] and off.hypothetical_answer == ""


def test_expansion_is_off_by_default(e2e: Components) -> None:
    response = e2e.query_pipeline().run(QueryRequest(QUESTION, SAMPLES_COLLECTION, retrieval_only=True))
    assert "expand" not in response.timings and response.expanded_queries == []
