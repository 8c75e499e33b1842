"""Weighted reciprocal-rank fusion: a weak ranking must not drown a strong one."""

from __future__ import annotations

import pytest

from rag.query.fusion import RRF_K, weighted_rrf


def ident(x: str) -> str:
    return x


def test_scores_are_weighted_reciprocal_ranks() -> None:
    fused = weighted_rrf([(["a", "b", "c"], 1.0), (["c", "a"], 0.5)], key=ident)
    expected = {
        "a": 1.0 / (RRF_K + 1) + 0.5 / (RRF_K + 2),
        "b": 1.0 / (RRF_K + 2),
        "c": 1.0 / (RRF_K + 3) + 0.5 / (RRF_K + 1),
    }
    assert [item for item, _ in fused] == sorted(expected, key=lambda i: expected[i], reverse=True)
    for item, score in fused:
        assert score == pytest.approx(expected[item])
    assert [s for _, s in fused] == sorted((s for _, s in fused), reverse=True)


def test_weight_decides_between_two_rankings() -> None:
    good, other = ["x", "y", "z"], ["z", "y", "x"]
    assert weighted_rrf([(good, 1.0), (other, 0.2)], key=ident)[0][0] == "x"
    assert weighted_rrf([(good, 0.2), (other, 1.0)], key=ident)[0][0] == "z"


def test_zero_weight_drops_a_list_entirely() -> None:
    fused = weighted_rrf([(["a", "b"], 1.0), (["noise", "b", "more-noise"], 0.0)], key=ident)
    assert [item for item, _ in fused] == ["a", "b"]
    assert weighted_rrf([(["a"], 0.0), (["b"], -1.0)], key=ident) == []


def test_zero_weight_useless_list_cannot_change_a_good_order() -> None:
    """The Chinese question with an English embedder: a reversed (useless) dense ranking at weight 0
    leaves BM25's order exactly as it was, scores included."""
    good = [f"doc{i}" for i in range(10)]
    useless = [*reversed(good), "junk1", "junk2"]
    alone = weighted_rrf([(good, 1.0)], key=ident)
    together = weighted_rrf([(useless, 0.0), (good, 1.0)], key=ident)
    assert together == alone
    assert [item for item, _ in together] == good
    # at equal weight the same useless list would have scrambled the good one
    equal = weighted_rrf([(useless, 1.0), (good, 1.0)], key=ident)
    assert [item for item, _ in equal if item.startswith("doc")] != good


def test_first_seen_object_is_kept_and_key_merges_duplicates() -> None:
    first, second = {"id": 1, "from": "dense"}, {"id": 1, "from": "lexical"}
    fused = weighted_rrf([([first], 1.0), ([second], 1.0)], key=lambda d: d["id"])
    assert len(fused) == 1
    assert fused[0][0] is first
    assert fused[0][1] == pytest.approx(2.0 / (RRF_K + 1))
