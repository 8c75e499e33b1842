"""Citation checking: every answer sentence keeps only citations to sources that support it."""

from __future__ import annotations

import re

import pytest

from rag.query.citations import attribute

SOURCES = {
    1: "The NR-7 runs for 11 hours on one charge. A full charge takes 90 minutes at the docking station.",
    2: "The NR-7 carries up to 450 kg and moves at 2 metres per second; it docks to within 5 millimetres.",
}
ZH_SOURCES = {
    1: "国内出差每天餐费补贴一百元，国际出差每天五十美元。",
    2: "员工应在出差结束后十五个工作日内通过财务系统提交报销申请。",
}


def markers(text: str) -> list[int]:
    return [int(n) for n in re.findall(r"\[(\d+)\]", text)]


def test_supported_citation_is_kept() -> None:
    cited = attribute("The NR-7 runs for 11 hours on one charge [1].", SOURCES)
    assert cited.text == "The NR-7 runs for 11 hours on one charge [1]."
    assert cited.used_ids == [1]
    assert cited.groundedness == 1.0 and cited.sentences == 1 and cited.model_cited


def test_citation_moves_to_the_source_that_supports_the_sentence() -> None:
    cited = attribute("The NR-7 carries up to 450 kg [1].", SOURCES)
    assert cited.text == "The NR-7 carries up to 450 kg [2]."
    assert cited.used_ids == [2] and cited.groundedness == 1.0


def test_citation_to_a_source_that_does_not_exist_is_dropped() -> None:
    unsupported = attribute("The robot was designed in Oslo [7].", SOURCES)
    assert markers(unsupported.text) == [] and unsupported.used_ids == []
    assert not unsupported.model_cited and unsupported.groundedness == 0.0
    assert unsupported.text == "The robot was designed in Oslo."

    supported = attribute("A full charge takes 90 minutes [3].", SOURCES)
    assert supported.text == "A full charge takes 90 minutes [1]."
    assert not supported.model_cited  # [3] named no source: the citation is ours, not the model's


def test_uncited_supported_sentence_gets_a_citation() -> None:
    cited = attribute("A full charge takes 90 minutes. The NR-7 moves at 2 metres per second.", SOURCES)
    assert cited.text == "A full charge takes 90 minutes [1]. The NR-7 moves at 2 metres per second [2]."
    assert cited.used_ids == [1, 2] and not cited.model_cited


def test_several_markers_and_full_width_brackets_are_parsed() -> None:
    cited = attribute("The NR-7 runs for 11 hours on one charge [1, 2]. It carries 450 kg【2】.", SOURCES)
    assert cited.text == "The NR-7 runs for 11 hours on one charge [1]. It carries 450 kg [2]."
    assert cited.used_ids == [1, 2] and cited.model_cited


@pytest.mark.parametrize(
    ("claim", "supported"),
    [
        ("The NR-7 moves at 2 metres per second [2].", True),
        ("The NR-7 moves at 2.5 metres per second [2].", False),  # 2 and 5 are in the source, 2.5 is not
        ("The NR-7 carries up to 450 kg [2].", True),
        ("The NR-7 carries up to 4500 kg [2].", False),
        ("The NR-7 runs for 12 hours on one charge [1].", False),
    ],
)
def test_a_number_missing_from_the_source_is_not_supported(claim: str, supported: bool) -> None:
    cited = attribute(claim, SOURCES)
    assert bool(cited.used_ids) is supported, cited
    assert cited.groundedness == (1.0 if supported else 0.0)


def test_drop_unsupported_removes_unsupported_sentences() -> None:
    answer = "The NR-7 runs for 11 hours on one charge [1]. It was designed by a team in Oslo [1]."
    kept = attribute(answer, SOURCES)
    assert kept.text == "The NR-7 runs for 11 hours on one charge [1]. It was designed by a team in Oslo."
    dropped = attribute(answer, SOURCES, drop_unsupported=True)
    assert dropped.text == "The NR-7 runs for 11 hours on one charge [1]."
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
    assert cited.used_ids == [2, 1]
    assert cited.sentences == 3 and cited.groundedness == pytest.approx(2 / 3)
    parts = re.split(r"(?<=。)", cited.text)
    assert [p for p in parts if p] == [
        "员工应在出差结束后十五个工作日内提交报销申请 [2]。",
        "国内出差每天餐费补贴一百元 [1]。",
    ]
    assert "免费午餐" not in cited.text
    assert " " not in cited.text.replace(" [", "[")  # sentences joined without spaces


def test_chinese_number_check() -> None:
    sources = {1: "住宿费每晚不超过600元，北京每晚不超过800元。"}
    assert attribute("住宿费每晚不超过600元[1]。", sources).used_ids == [1]
    assert attribute("住宿费每晚不超过650元[1]。", sources).used_ids == []


@pytest.mark.parametrize(
    ("question", "answer", "kept"),
    [
        ("Who founded Northwind Robotics?", "Northwind Robotics was founded by [1].", ""),
        ("Who founded Northwind Robotics?", "Northwind Robotics was founded by Ada Lin [1].", "Ada Lin"),
        ("电影《青川往事》由谁执导", "电影《青川往事》由谁执导[1]。", ""),
        ("电影《青川往事》由谁执导", "电影《青川往事》由林晚秋执导[1]。", "林晚秋"),
    ],
)
def test_a_sentence_that_only_restates_the_question_claims_nothing(
    question: str, answer: str, kept: str
) -> None:
    sources = {
        1: "Northwind Robotics was founded by Ada Lin in 2009 in Porto. "
        "电影《青川往事》由林晚秋执导，于2021年上映。"
    }
    cited = attribute(answer, sources, drop_unsupported=True, question=question)
    assert (
        (kept in cited.text and cited.used_ids == [1])
        if kept
        else (cited.text == "" and cited.used_ids == [])
    )
    # without the question the restatement passes: its words are all in the source
    assert attribute(answer, sources, drop_unsupported=True).used_ids == [1]


ROSTER = {
    1: "Maren Holt retired as the station's career rescue leader with 136. "
    "Deckhand Tovan Brisk led the crew in rescues with 11.",
}


@pytest.mark.parametrize(
    ("answer", "supported"),
    [
        ("Maren Holt had 136 career rescues [1].", True),
        ("Maren Holt had 11 career rescues [1].", False),  # 11 is Brisk's count, in another sentence
        ("136 [1].", True),  # a bare answer sits next to the question's words
        ("11 [1].", False),
    ],
)
def test_a_claim_must_sit_next_to_what_it_is_about(answer: str, supported: bool) -> None:
    cited = attribute(answer, ROSTER, question="How many career rescues did Maren Holt have?")
    assert (cited.used_ids == [1]) is supported


def test_chinese_claim_must_sit_next_to_what_it_is_about() -> None:
    sources = {1: "北京每晚住宿不超过八百元。其他城市的餐费补贴为每天一百元。"}
    question = "北京的住宿标准是多少？"
    assert attribute("北京住宿每晚不超过八百元[1]。", sources, question=question).used_ids == [1]
    assert attribute("北京住宿每天一百元[1]。", sources, question=question).used_ids == []


def test_a_number_of_a_claim_must_be_in_the_sentence_that_supports_it() -> None:
    sources = {
        1: "单程超过五小时的行程可以乘坐飞机经济舱。超过三十天未提交的申请将不予受理。"
        "国际出差每天补贴五十美元。"
    }
    question = "报销申请多久不提交就不予受理？"
    kept = attribute("超过三十天未提交的申请将不予受理[1]。", sources, question=question)
    assert kept.used_ids == [1]
    # 五十 is in the source, but not in the sentence about unsubmitted claims
    made_up = attribute("单程超过五十天未提交的申请将不予受理[1]。", sources, question=question)
    assert made_up.used_ids == []
    # a dateline's numbers may stand elsewhere in the source when the claim's own number is there
    dated = attribute(
        "12月10日，超过三十天未提交的申请将不予受理[1]。", {1: "12月10日讯。" + sources[1]}, question=question
    )
    assert dated.used_ids == [1]


NR7 = {1: "The NR-7 runs for 11 hours on one charge.", 2: "The NR-7 carries up to 450 kg."}


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
    cited = attribute(answer, NR7, question="What are the NR-7's specs?", drop_unsupported=True)
    assert cited.used_ids == [1, 2] and cited.groundedness == 1.0
    assert cited.text == answer  # unchanged, line breaks kept
    made_up = attribute(answer.replace("450", "900"), NR7, drop_unsupported=True)
    assert made_up.used_ids == [1] and len(made_up.text.splitlines()) == 1


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
    question = "How long does the NR-7 run on one charge?"
    cited = attribute(answer, NR7, question=question, drop_unsupported=True)
    assert cited.used_ids == [1] and cited.text.endswith(" [1]."), cited.text
    wrong = attribute(answer.replace("11", "12"), NR7, question=question, drop_unsupported=True)
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
    cited = attribute(answer, sources, question="国内出差住宿费标准是多少？", drop_unsupported=True)
    assert cited.used_ids == [1] and cited.text.endswith(" [1]。"), cited.text
    assert "（" not in cited.text and "来源：" not in cited.text


@pytest.mark.parametrize(
    ("question", "source", "right", "made_up"),
    [
        (
            "Who designed the Velmora footbridge?",
            "Olla Brandt painted the murals, while award-winning engineer Ilse Varga designed the Velmora "
            "footbridge.",
            "Award-winning engineer Ilse Varga designed the Velmora footbridge [1].",
            "Award-winning engineer Petra Lund designed the Velmora footbridge [1].",
        ),
        (
            "青川县队在决赛中击败了谁？",
            "青川县队在决赛中击败临溪县队夺冠，刘洋获得最佳球员奖。",
            "青川县队在决赛中击败临溪县队夺冠，刘洋获得最佳球员奖[1]。",
            "青川县队在决赛中击败云岭县队夺冠，刘洋获得最佳球员奖[1]。",
        ),
    ],
)
def test_a_name_the_source_does_not_hold_is_not_supported(
    question: str, source: str, right: str, made_up: str
) -> None:
    # the made-up answer shares most of its words with the source: only its name is wrong
    assert attribute(right, {1: source}, question=question).used_ids == [1]
    assert attribute(made_up, {1: source}, question=question).used_ids == []


def test_sentences_ended_by_semicolons_keep_them() -> None:
    sources = {
        1: "国内出差住宿费每晚不超过六百元人民币。",
        2: "员工应在出差结束后十五个工作日内提交报销申请。",
    }
    answer = "国内出差住宿费每晚不超过600元[1]；员工应在出差结束后十五个工作日内提交报销申请[2]。"
    cited = attribute(answer, sources, question="出差有哪些规定？")
    assert (
        cited.text == "国内出差住宿费每晚不超过600元 [1]；员工应在出差结束后十五个工作日内提交报销申请 [2]。"
    )


PRINTERS = (
    "The LX-40 printer is built for busy offices and prints 30 pages per minute.\n"
    "Model: LX-20; Speed: 18 pages per minute; Tray: 150 sheets\n"
    "Model: LX-40; Speed: 30 pages per minute; Tray: 500 sheets"
)


@pytest.mark.parametrize(
    ("answer", "supported"),
    [
        ("It prints 18 pages per minute [1].", False),  # the LX-20's figure, asked about the LX-40
        ("The LX-40 prints 18 pages per minute [1].", False),
        ("It prints 30 pages per minute [1].", True),
        ("Its tray holds 500 sheets [1].", True),
        ("The LX-20 prints 18 pages per minute [1].", True),  # true of the model it names
    ],
)
def test_a_figure_the_source_gives_for_another_entity_is_not_support(answer: str, supported: bool) -> None:
    cited = attribute(answer, {1: PRINTERS}, question="How fast is the LX-40?", drop_unsupported=True)
    assert bool(cited.used_ids) is supported, cited


def test_a_figure_in_a_sentence_naming_something_else_is_support_without_a_rival_figure() -> None:
    source = "The Corvo Quartet plays chamber music. The quartet was founded in Porto in 1998."
    question = "When was the Corvo Quartet founded?"
    for answer in ("The Corvo Quartet was founded in 1998 [1].", "It was founded in 1998 [1]."):
        assert attribute(answer, {1: source}, question=question).used_ids == [1]
