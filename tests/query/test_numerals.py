"""Numbers in Chinese numerals read as digits, and how the citation check reads numbers."""

from __future__ import annotations

import pytest

from rag.query.citations import attribute, content_tokens
from rag.query.numerals import chinese_number


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("14", "14"),
        ("七", "7"),
        ("十四", "14"),
        ("二十", "20"),
        ("九十五", "95"),
        ("一百零七", "107"),
        ("三万五千", "35000"),
        ("十五万", "150000"),
        ("一亿二千万", "120000000"),
        ("二〇二二", "2022"),
        ("", None),
        ("十月", None),
    ],
)
def test_chinese_number(text: str, number: str | None) -> None:
    assert chinese_number(text) == number


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("六百元", "600元"),
        ("七万个", "7万个"),
        ("3.71万人", "37100人"),
        ("十五个工作日", "15个工作日"),
        ("1,200 euros", "1200 euros"),
    ],
)
def test_a_number_is_the_same_claim_however_it_is_written(one: str, other: str) -> None:
    assert content_tokens(one) == content_tokens(other)


def test_an_answer_in_digits_is_supported_by_a_source_in_chinese_numerals() -> None:
    source = {1: "国内出差住宿费每晚不超过六百元人民币，北京、上海、深圳三个城市每晚不超过八百元。"}
    question = "国内出差住宿费每晚不超过多少钱？"
    assert attribute("国内出差住宿费每晚不超过600元[1]。", source, question=question).used_ids == [1]
    assert attribute("国内出差住宿费每晚不超过700元[1]。", source, question=question).used_ids == []
    assert attribute("国内出差住宿费每晚不超过3.71万元[1]。", source, question=question).used_ids == []
