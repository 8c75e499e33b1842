"""Corroboration: the candidate whose statement other documents repeat moves up; a collection with one
document per topic keeps its order (Chinese and English)."""

from __future__ import annotations

from rag.query.corroborate import Corroboration
from tests.query.records import make_chunk, scored

QUESTION_ZH = "2022年特斯拉交付量"
# shares the question's words, but reports a target, not the result
TARGET = make_chunk(
    "target",
    "以特斯拉2021年的全球交付量93.62万辆计算，按照马斯克的规划，特斯拉2022年的交付量需要超过140万辆。",
)
REPORTS = [  # one figure, three documents
    "2022年，特斯拉全球总交付量131万辆，相比2021年增长40%。",
    "据特斯拉公布的数据，2022年全年特斯拉全球总交付量为131万辆，相比2021年增长40%。",
    "特斯拉2022年全球总交付量达131万辆，比2021年增长40%，低于50%的目标。",
]
REPORT_1, REPORT_2, REPORT_3 = (make_chunk(f"report-{i}", t) for i, t in enumerate(REPORTS, start=1))
OTHER = make_chunk("other", "比亚迪2022年新能源汽车销量186万辆。")


def test_the_statement_three_documents_make_moves_above_the_one_only_one_makes() -> None:
    hits = scored(TARGET, REPORT_1, OTHER, REPORT_2, REPORT_3)
    corroboration = Corroboration(weight=0.5, similarity=0.35)
    assert corroboration.counts(QUESTION_ZH, hits) == [0, 2, 0, 2, 2]
    reordered = corroboration.rerank(QUESTION_ZH, hits)
    assert [h.chunk.doc_id for h in reordered][:2] == ["report-1", "target"]
    assert reordered[0].scores["corroboration"] == 2.0
    assert [h.score for h in reordered] == sorted((h.score for h in reordered), reverse=True)
    assert reordered[0].scores["dense"] == hits[1].scores["dense"]  # earlier scores are kept


def test_one_agreeing_pair_only_breaks_near_ties() -> None:
    hits = scored(TARGET, REPORT_1, REPORT_2)
    reordered = Corroboration(weight=0.5, similarity=0.35).rerank(QUESTION_ZH, hits)
    assert [h.chunk.doc_id for h in reordered] == ["target", "report-1", "report-2"]


def test_a_sentence_repeated_within_one_document_corroborates_nothing() -> None:
    first = make_chunk("wiki", REPORT_1.text, index=0)
    second = make_chunk("wiki", REPORT_1.text, index=1, start=200)
    hits = scored(TARGET, first, second)
    corroboration = Corroboration(weight=0.5, similarity=0.35)
    assert corroboration.counts(QUESTION_ZH, hits) == [0, 0, 0]
    assert corroboration.rerank(QUESTION_ZH, hits) == hits


def test_english_restatements_count_and_unrelated_shared_sentences_do_not() -> None:
    question = "When did the Apollo 1 fire happen?"
    boiler = "This page was last edited by the documentation team in the archive office."
    fire_1 = make_chunk("nasa", f"The Apollo 1 fire killed three astronauts on 27 January 1967. {boiler}")
    fire_2 = make_chunk("times", "On 27 January 1967 a fire killed the three Apollo 1 astronauts.")
    launch = make_chunk("launch", f"The Apollo 1 crew trained for a launch set for February 1967. {boiler}")
    corroboration = Corroboration(weight=0.5, similarity=0.35)
    # the shared footer does not bear on the question: it makes launch and nasa no closer
    assert corroboration.counts(question, scored(launch, fire_1, fire_2)) == [0, 1, 1]


def test_weight_zero_is_off() -> None:
    hits = scored(TARGET, REPORT_1, OTHER, REPORT_2, REPORT_3)
    assert Corroboration(weight=0.0, similarity=0.35).rerank(QUESTION_ZH, hits) == hits


# three reports of the 2023 final, one of the 2022 final: the question names 2022
FINAL_2022 = make_chunk(
    "final-2022", "北京时间1月30日，2022澳网男单决赛，纳达尔以3-2击败梅德韦杰夫，斩获澳网男单冠军。"
)
FINALS_2023 = [
    make_chunk(f"final-2023-{i}", text)
    for i, text in enumerate(
        [
            "德约科维奇以三盘连胜击败西西帕斯，夺得2023年澳网男单冠军，这是他第10个澳网男单冠军。",
            "2023年澳网男单决赛，德约科维奇击败西西帕斯夺得冠军，这是他第10个澳网男单冠军。",
            "德约科维奇击败西西帕斯，夺得2023年澳网男单冠军，第10个澳网男单冠军。",
        ],
        start=1,
    )
]


def test_reports_of_another_year_than_the_question_names_corroborate_nothing() -> None:
    hits = scored(FINALS_2023[0], FINAL_2022, *FINALS_2023[1:])
    corroboration = Corroboration(weight=0.5, similarity=0.35)
    assert corroboration.counts("2022年澳网男单冠军", hits) == [0, 0, 0, 0]
    assert corroboration.rerank("2022年澳网男单冠军", hits) == hits
    # about 2023 they agree; and asked for a time, a year is the answer, not another event
    assert corroboration.counts("2023年澳网男单冠军", hits) == [2, 0, 2, 2]
    assert corroboration.counts("德约科维奇哪一年夺得澳网男单冠军", hits) == [2, 0, 2, 2]
