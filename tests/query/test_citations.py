"""Citation checking: every answer sentence keeps only citations to sources that support it."""

from __future__ import annotations

import re

import pytest

from rag.query.citations import CitedAnswer, attribute

SOURCES = {
    1: "The NR-7 runs for 11 hours on one charge. A full charge takes 90 minutes at the docking station.",
    2: "The NR-7 carries up to 450 kg and moves at 2 metres per second; it docks to within 5 millimetres.",
}
ZH_SOURCES = {
    1: "国内出差每天餐费补贴一百元，国际出差每天五十美元。",
    2: "员工应在出差结束后十五个工作日内通过财务系统提交报销申请。",
}
NR7 = {1: "The NR-7 runs for 11 hours on one charge.", 2: "The NR-7 carries up to 450 kg."}


def markers(text: str) -> list[int]:
    return [int(n) for n in re.findall(r"\[(\d+)\]", text)]


def supported(cited: CitedAnswer, ids: list[int]) -> bool:
    """The answer is kept citing exactly `ids`, in its text as in `used_ids`."""
    return cited.used_ids == ids and sorted(set(markers(cited.text))) == sorted(ids)


def test_supported_citation_is_kept() -> None:
    cited = attribute("The NR-7 runs for 11 hours on one charge [1].", SOURCES)
    assert supported(cited, [1]) and "11 hours" in cited.text
    assert cited.groundedness == 1.0 and cited.sentences == 1 and cited.model_cited


def test_citation_moves_to_the_source_that_supports_the_sentence() -> None:
    cited = attribute("The NR-7 carries up to 450 kg [1].", SOURCES)
    assert supported(cited, [2]) and cited.groundedness == 1.0


def test_citation_to_a_source_that_does_not_exist_is_dropped() -> None:
    unsupported = attribute("The robot was designed in Oslo [7].", SOURCES)
    assert supported(unsupported, []) and "Oslo" in unsupported.text
    assert not unsupported.model_cited and unsupported.groundedness == 0.0

    moved = attribute("A full charge takes 90 minutes [3].", SOURCES)
    assert supported(moved, [1])
    assert not moved.model_cited  # [3] named no source: the citation is ours, not the model's


def test_uncited_supported_sentence_gets_a_citation() -> None:
    cited = attribute("A full charge takes 90 minutes. The NR-7 moves at 2 metres per second.", SOURCES)
    assert supported(cited, [1, 2]) and not cited.model_cited
    assert markers(cited.text) == [1, 2]  # each sentence its own


def test_several_markers_and_full_width_brackets_are_parsed() -> None:
    cited = attribute("The NR-7 runs for 11 hours on one charge [1, 2]. It carries 450 kg【2】.", SOURCES)
    assert markers(cited.text) == [1, 2]  # [2] does not support the first sentence
    assert cited.used_ids == [1, 2] and cited.model_cited


@pytest.mark.parametrize(
    ("claim", "ok"),
    [
        ("The NR-7 moves at 2 metres per second [2].", True),
        ("The NR-7 moves at 2.5 metres per second [2].", False),  # 2 and 5 are in the source, 2.5 is not
        ("The NR-7 carries up to 450 kg [2].", True),
        ("The NR-7 carries up to 4500 kg [2].", False),
        ("The NR-7 runs for 12 hours on one charge [1].", False),
    ],
)
def test_a_number_missing_from_the_source_is_not_supported(claim: str, ok: bool) -> None:
    cited = attribute(claim, SOURCES)
    assert bool(cited.used_ids) is ok, cited
    assert cited.groundedness == (1.0 if ok else 0.0)


def test_a_bare_answer_is_supported_by_the_source_that_states_it() -> None:
    assert supported(attribute("450 kg [1]", SOURCES), [2])  # moved to the source that says it
    assert supported(attribute("90 minutes [1].", SOURCES), [1])
    assert supported(attribute("75 minutes [1].", SOURCES), [])


def test_drop_unsupported_removes_unsupported_sentences() -> None:
    answer = "The NR-7 runs for 11 hours on one charge [1]. It was designed by a team in Oslo [1]."
    kept = attribute(answer, SOURCES)
    assert "Oslo" in kept.text and markers(kept.text) == [1]  # the unsupported sentence stays, uncited
    dropped = attribute(answer, SOURCES, drop_unsupported=True)
    assert "Oslo" not in dropped.text and supported(dropped, [1])
    assert dropped.groundedness == kept.groundedness == 0.5 and dropped.sentences == 2
    nothing = attribute("It was designed by a team in Oslo.", SOURCES, drop_unsupported=True)
    assert nothing.text == "" and nothing.used_ids == [] and nothing.groundedness == 0.0


def test_groundedness_is_the_share_of_supported_sentences() -> None:
    answer = (
        "The NR-7 runs for 11 hours on one charge [1]. A full charge takes 90 minutes [1]. "
        "The NR-7 carries up to 450 kg [2]. It was painted blue in Oslo [2]."
    )
    cited = attribute(answer, SOURCES)
    assert cited.sentences == 4 and cited.groundedness == pytest.approx(0.75)
    assert attribute("", SOURCES).groundedness == 0.0


def test_chinese_sentences() -> None:
    answer = (
        "员工应在出差结束后十五个工作日内提交报销申请【1】。国内出差每天餐费补贴一百元。"
        "公司还提供免费午餐[2]。"
    )
    cited = attribute(answer, ZH_SOURCES, drop_unsupported=True)
    assert cited.used_ids == [2, 1] and markers(cited.text) == [2, 1]
    assert cited.sentences == 3 and cited.groundedness == pytest.approx(2 / 3)
    assert "免费午餐" not in cited.text
    assert "报销申请" in cited.text and "一百元" in cited.text


def test_chinese_number_check() -> None:
    sources = {1: "住宿费每晚不超过600元，北京每晚不超过800元。"}
    assert attribute("住宿费每晚不超过600元[1]。", sources).used_ids == [1]
    assert attribute("住宿费每晚不超过650元[1]。", sources).used_ids == []


@pytest.mark.parametrize(
    "answer",
    [
        "1. The NR-7 runs for 11 hours on one charge [1].\n2. It carries up to 450 kg [2].",
        "- The NR-7 runs for 11 hours on one charge [1].\n- It carries up to 450 kg [2].",
        "1) The NR-7 runs for 11 hours on one charge [1]\n2) The NR-7 carries up to 450 kg [2]",
    ],
)
def test_a_list_answer_keeps_its_items_and_lines(answer: str) -> None:
    # the items' labels (1. 2) -) are layout: "2." is not a number the source must hold
    cited = attribute(answer, NR7, drop_unsupported=True)
    assert supported(cited, [1, 2]) and cited.groundedness == 1.0
    assert len(cited.text.splitlines()) == 2  # one item a line
    made_up = attribute(answer.replace("450", "900"), NR7, drop_unsupported=True)
    assert supported(made_up, [1]) and len(made_up.text.splitlines()) == 1


@pytest.mark.parametrize(
    "answer",
    [
        "The NR-7 runs for 11 hours on one charge [Source 1].",
        "The NR-7 runs for 11 hours on one charge (Source 1).",
        "The NR-7 runs for 11 hours on one charge [source 1, source 2].",
        "Based on the provided sources, the answer is 11 hours [1].",  # words about the sources claim nothing
        "The NR-7 runs for 11 hours on one charge [^1].",
        "The NR-7 runs for 11 hours on one charge [Document 1].",
        "The NR-7 runs for 11 hours on one charge (see [1]).",
        "According to Source 1, the NR-7 runs for 11 hours on one charge.",
    ],
)
def test_citation_styles_and_words_about_the_sources_as_models_write_them(answer: str) -> None:
    cited = attribute(answer, NR7, drop_unsupported=True)
    assert supported(cited, [1]), cited.text
    assert not re.search(r"[(^]|Document|\[Source", cited.text)  # no marker of the model's own style is left
    wrong = attribute(answer.replace("11", "12"), NR7, drop_unsupported=True)
    assert wrong.used_ids == [] and wrong.text == ""


def test_a_parenthesised_number_is_not_a_citation() -> None:
    cited = attribute("The NR-7 was released in (2019) [1].", {1: "The NR-7 runs for 11 hours."})
    assert cited.used_ids == [] and "(2019)" in cited.text


@pytest.mark.parametrize(
    "answer",
    [
        "根据来源1，国内出差住宿费每晚不超过600元。",
        "国内出差住宿费每晚不超过600元（来源：[1]）。",
        "国内出差住宿费每晚不超过六百元（参考资料1）。",
        "根据资料[1]，国内出差住宿费每晚不超过600元。",
    ],
)
def test_chinese_citation_styles(answer: str) -> None:
    sources = {
        1: "国内出差住宿费每晚不超过六百元人民币。",
        2: "员工应在出差结束后十五个工作日内提交报销申请。",
    }
    cited = attribute(answer, sources, drop_unsupported=True)
    assert supported(cited, [1]), cited.text
    assert "（" not in cited.text and "来源：" not in cited.text


@pytest.mark.parametrize(
    ("source", "right", "made_up"),
    [
        (
            "Olla Brandt painted the murals, while award-winning engineer Ilse Varga designed the Velmora "
            "footbridge.",
            "Award-winning engineer Ilse Varga designed the Velmora footbridge [1].",
            "Award-winning engineer Petra Lund designed the Velmora footbridge [1].",
        ),
        (
            "青川县队在决赛中击败临溪县队夺冠，刘洋获得最佳球员奖。",
            "青川县队在决赛中击败临溪县队夺冠，刘洋获得最佳球员奖[1]。",
            "青川县队在决赛中击败云岭县队夺冠，刘洋获得最佳球员奖[1]。",
        ),
    ],
)
def test_a_name_the_source_does_not_hold_is_not_supported(source: str, right: str, made_up: str) -> None:
    # the made-up answer shares most of its words with the source: only its name is wrong
    assert attribute(right, {1: source}).used_ids == [1]
    assert attribute(made_up, {1: source}).used_ids == []


def test_sentences_ended_by_semicolons_are_checked_each_on_its_own() -> None:
    sources = {
        1: "国内出差住宿费每晚不超过六百元人民币。",
        2: "员工应在出差结束后十五个工作日内提交报销申请。",
    }
    answer = "国内出差住宿费每晚不超过600元[1]；员工应在出差结束后十五个工作日内提交报销申请[2]。"
    cited = attribute(answer, sources)
    assert supported(cited, [1, 2]) and markers(cited.text) == [1, 2]
    assert "；" in cited.text  # the sentences keep their punctuation
