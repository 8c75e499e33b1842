"""Rerankers: the built-in proximity reranker, passthrough, and the sentence-transformers cross-encoder
(a tiny randomly initialised BERT built here, so the real loading and scoring code runs offline)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from rag.query.rerank import CrossEncoderReranker, PassthroughReranker, ProximityReranker, build_reranker
from rag_core.errors import ModelNotFound
from rag_core.query_settings import RerankSettings
from tests.helpers import REPO
from tests.query.records import make_chunk, scored
from tests.tiny_models import save_tiny_cross_encoder

QUESTION = "Which supplier delivers the titanium sprockets?"
# rare words of the question: supplier, delivers, titanium, sprockets
SCATTERED = make_chunk(
    "scattered",
    "Our supplier list is reviewed every spring. The review takes two weeks. Lunch is served at noon. "
    "Titanium is a light metal. The warehouse has three doors. The canteen closes at two. "
    "Sprockets wear out over time.",
)
TOGETHER = make_chunk(
    "together",
    "The plant opened in 1998. The Porto supplier delivers the titanium sprockets every Monday. "
    "Visitors sign in at the gate.",
)
PARTIAL_1 = make_chunk("partial-1", "A second supplier sells titanium tubes. Tubes are cut to length.")
PARTIAL_2 = make_chunk("partial-2", "Steel sprockets come from a supplier in Lyon. They are cheaper.")


def test_proximity_moves_the_single_window_answer_above_scattered_mentions() -> None:
    hits = scored(SCATTERED, TOGETHER, PARTIAL_1, PARTIAL_2)
    reranked = ProximityReranker().rerank(QUESTION, hits, top_n=4)
    order = [h.chunk.doc_id for h in reranked]
    assert order.index("together") < order.index("scattered"), order
    assert order[0] == "together"
    by_id = {h.chunk.doc_id: h for h in reranked}
    assert by_id["together"].scores["proximity"] == pytest.approx(1.0)
    assert by_id["scattered"].scores["proximity"] < 0.5
    assert by_id["together"].scores["dense"] == 0.0  # earlier scores are kept for debugging
    assert [h.score for h in reranked] == sorted((h.score for h in reranked), reverse=True)


def test_proximity_keeps_order_when_it_has_no_opinion() -> None:
    hits = scored(SCATTERED, TOGETHER)
    assert [h.chunk.id for h in ProximityReranker().rerank("how is it?", hits, top_n=5)] == [
        SCATTERED.id,
        TOGETHER.id,
    ]
    assert ProximityReranker().rerank(QUESTION, [], top_n=3) == []


def test_proximity_on_chinese() -> None:
    scattered = make_chunk(
        "zh-scattered",
        "供应商名单每年春天审核一次。审核需要两周。午饭在中午供应。钛是一种轻金属。仓库有三个门。链轮会随时间磨损。",
    )
    together = make_chunk("zh-together", "工厂于1998年开业。波尔图的供应商每周一送来钛链轮。访客在门口登记。")
    partial_1 = make_chunk("zh-partial-1", "第二家供应商出售钛管。钛管按长度切割。")
    partial_2 = make_chunk("zh-partial-2", "钢链轮来自里昂的供应商。它们更便宜。")
    hits = scored(scattered, together, partial_1, partial_2)
    reranked = ProximityReranker().rerank("哪家供应商提供钛链轮？", hits, top_n=4)
    assert reranked[0].chunk.doc_id == "zh-together", [h.chunk.doc_id for h in reranked]


def test_passthrough_keeps_order_and_cuts_to_top_n() -> None:
    hits = scored(SCATTERED, TOGETHER, PARTIAL_1, PARTIAL_2)
    out = PassthroughReranker().rerank(QUESTION, hits, top_n=3)
    assert [h.chunk.id for h in out] == [h.chunk.id for h in hits[:3]]
    assert [h.score for h in out] == [h.score for h in hits[:3]]


def test_build_reranker_follows_settings() -> None:
    assert isinstance(build_reranker(RerankSettings.model_validate({})), ProximityReranker)
    off = RerankSettings.model_validate({"proximity_weight": 0})
    assert isinstance(build_reranker(off), PassthroughReranker)
    built = build_reranker(RerankSettings.model_validate({"model": "some/cross-encoder"}))
    assert isinstance(built, CrossEncoderReranker) and built.name == "some/cross-encoder"


@pytest.fixture(scope="module")
def tiny_cross_encoder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_tiny_cross_encoder(tmp_path_factory.mktemp("cross-encoder") / "tiny-ce")


def test_cross_encoder_scores_every_pair_and_reorders_by_score(tiny_cross_encoder: Path) -> None:
    from sentence_transformers import CrossEncoder

    chunks = [SCATTERED, TOGETHER, PARTIAL_1, PARTIAL_2]
    reference = CrossEncoder(str(tiny_cross_encoder), device="cpu")
    expected = {
        c.id: float(s)
        for c, s in zip(chunks, reference.predict([(QUESTION, c.text) for c in chunks]), strict=True)
    }
    assert len(set(expected.values())) == len(chunks)
    worst_first = sorted(chunks, key=lambda c: expected[c.id])
    hits = scored(*worst_first)

    reranker = CrossEncoderReranker(str(tiny_cross_encoder), batch_size=3)
    out = reranker.rerank(QUESTION, hits, top_n=10)
    assert [h.chunk.id for h in out] == [c.id for c in reversed(worst_first)]
    for h in out:
        assert h.score == pytest.approx(expected[h.chunk.id], abs=1e-5)
        assert h.scores["rerank"] == h.score and "dense" in h.scores
    top2 = reranker.rerank(QUESTION, hits, top_n=2)
    assert [h.chunk.id for h in top2] == [h.chunk.id for h in out[:2]]
    assert reranker.rerank(QUESTION, [], top_n=2) == []


def test_missing_cross_encoder_model_is_model_not_found_with_a_hint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    reranker = CrossEncoderReranker("no-such-org/no-such-reranker-model")
    with pytest.raises(ModelNotFound) as caught:
        reranker.rerank(QUESTION, scored(SCATTERED), top_n=1)
    assert "no-such-org/no-such-reranker-model" in str(caught.value)
    assert "RAG_RERANK__MODEL" in caught.value.hint


def test_unloadable_local_directory_is_model_not_found(tmp_path: Path) -> None:
    empty = tmp_path / "not-a-model"
    empty.mkdir()
    with pytest.raises(ModelNotFound) as caught:
        CrossEncoderReranker(str(empty)).rerank(QUESTION, scored(SCATTERED), top_n=1)
    assert str(empty) in str(caught.value)


def test_the_proximity_reranker_leaves_passages_in_another_script_in_place() -> None:
    """Words cannot judge a Chinese passage for an English question: that it shares none of the
    question's words does not push it behind English passages that share one."""
    texts = [
        "国内出差住宿费每晚不超过六百元人民币。",
        "The hotel has a pool.",
        "Night trains run on Fridays.",
        "Domestic flights are cheap.",
    ]
    hits = scored(*(make_chunk(f"c{i}", text) for i, text in enumerate(texts)))
    ranked = ProximityReranker().rerank("What is the domestic hotel limit per night?", hits, 4)
    assert ranked[0].chunk.text == texts[0]
    english = ProximityReranker().rerank("What is the domestic hotel limit per night?", hits[1:], 3)
    assert [h.chunk.text for h in english] == [h.chunk.text for h in ranked[1:]]


_SCORES_IN_A_FRESH_PROCESS = """
from rag.query.rerank import ProximityReranker
from tests.query.records import make_chunk, scored

words = "harbour ferry timetable winter schedule departs pier eastern island weekend morning evening".split()
chunks = [
    make_chunk(f"d{i}", " ".join(w for j, w in enumerate(words) if (i * j + i) % 5 != 1) + ". Closing line.")
    for i in range(14)
]
hits = ProximityReranker(1.0).rerank(" ".join(reversed(words)) + "?", scored(*chunks), 14)
print([(h.chunk.doc_id, h.scores["proximity"].hex()) for h in hits])
"""


def test_proximity_scores_are_the_same_in_every_process() -> None:
    """Python orders a set's strings differently in every process (hash seeds); the reranker's scores,
    and so the order of near ties, must not depend on that."""
    outputs = {
        subprocess.run(
            [sys.executable, "-c", _SCORES_IN_A_FRESH_PROCESS],
            env={**os.environ, "PYTHONHASHSEED": str(seed), "PYTHONPATH": str(REPO)},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in range(8)
    }
    assert len(outputs) == 1, outputs
