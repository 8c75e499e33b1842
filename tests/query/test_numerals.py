"""Numbers in Chinese numerals and English words read as digits, and how the citation check reads numbers."""

from __future__ import annotations

import pytest

from rag.query.citations import attribute, content_tokens
from rag.query.numerals import NUMBER, chinese_number, english_number, number_value


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
        ("three days per week", "3 days per week"),
        ("1.5 million people", "1,500,000 people"),
        ("twelve thousand employees", "12,000 employees"),
        ("12 thousand employees", "12000 employees"),
        ("the second album", "the 2nd album"),
        ("the nineteenth century", "the 19th century"),
        ("signed on March 5th", "signed on 5 March"),
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


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("seven", "7"),
        ("twenty-five", "25"),
        ("twenty five", "25"),
        ("two hundred and fifty", "250"),
        ("nineteen hundred", "1900"),
        ("three million", "3000000"),
        ("one million two hundred thousand", "1200000"),
        ("two three", None),
        ("ten five", None),
        ("and", None),
    ],
)
def test_english_number(text: str, number: str | None) -> None:
    assert english_number(text) == number


@pytest.mark.parametrize(
    ("written", "value"),
    [
        ("1.5 million", "1500000"),
        ("1.5 Million", "1500000"),
        ("12 thousand", "12000"),
        ("3.71 万", "37100"),
        ("second", "2"),
        ("twenty-first", "21"),
        ("19th", "19"),
        ("2.5", "2.5"),
        ("1.2.3万", "1.2.3万"),
    ],
)
def test_number_value(written: str, value: str) -> None:
    assert number_value(written) == value


@pytest.mark.parametrize(
    ("text", "numbers"),
    [
        ("one of the largest cities; one day", []),  # "one" alone is a pronoun more often than a number
        ("one hundred and five people", ["one hundred and five"]),
        ("at first, it was the first", []),  # so is "first"; "1st" and "twenty-first" are read
        ("two and three", ["two", "three"]),
        ("someone wrote hundreds of notes", []),
    ],
)
def test_which_words_are_numbers(text: str, numbers: list[str]) -> None:
    assert [m.group() for m in NUMBER.finditer(text)] == numbers


REMOTE = "How many days per week can I work remotely?"
POPULATION = "What was the population of the city in 2010?"


@pytest.mark.parametrize(
    ("question", "source", "answer", "wrong"),
    [
        (
            REMOTE,
            "Employees may work remotely up to three days per week.",
            "You may work remotely up to 3 days per week [1].",
            "You may work remotely up to 4 days per week [1].",
        ),
        (
            REMOTE,
            "Employees may work remotely up to 3 days per week.",
            "You may work remotely up to three days per week [1].",
            "You may work remotely up to four days per week [1].",
        ),
        (
            POPULATION,
            "The city had a population of 1,500,000 in 2010.",
            "The population was 1.5 million in 2010 [1].",
            "The population was 1.6 million in 2010 [1].",
        ),
    ],
)
def test_an_answer_that_writes_a_number_otherwise_than_its_source_is_supported(
    question: str, source: str, answer: str, wrong: str
) -> None:
    assert attribute(answer, {1: source}, question=question).used_ids == [1]
    assert attribute(wrong, {1: source}, question=question).used_ids == []
