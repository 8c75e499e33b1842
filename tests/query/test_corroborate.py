"""Corroboration: the candidate whose statement other documents repeat moves up; a collection with one
document per topic keeps its order (Chinese and English)."""

from __future__ import annotations

from rag.query.corroborate import Corroboration
from tests.query.records import make_chunk, scored

QUESTION_ZH = "2022年鸿澜汽车交付量"
# shares the question's words, but reports a target, not the result
TARGET = make_chunk(
    "target",
    "以鸿澜汽车2021年的全球交付量41.37万辆计算，按照周启明的计划，鸿澜汽车2022年的交付量应当超过60万辆。",
)
REPORTS = [  # one figure, three documents
    "2022年，鸿澜汽车全年交付量57万辆，相比2021年增长38%。",
    "根据鸿澜汽车发布的年报，2022年全年鸿澜汽车交付量为57万辆，相比2021年增长38%。",
    "鸿澜汽车2022年全年交付量达57万辆，比2021年增长38%，低于45%的目标。",
]
REPORT_1, REPORT_2, REPORT_3 = (make_chunk(f"report-{i}", t) for i, t in enumerate(REPORTS, start=1))
OTHER = make_chunk("other", "青川电车2022年新能源汽车销量82万辆。")


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
    question = "When did the Velmora mill fire happen?"
    boiler = "This page was last edited by the documentation team in the archive office."
    fire_1 = make_chunk("archive", f"The Velmora mill fire destroyed three looms on 14 March 1911. {boiler}")
    fire_2 = make_chunk("gazette", "On 14 March 1911 a fire destroyed the three Velmora mill looms.")
    reopening = make_chunk("reopen", f"The Velmora mill crew planned to reopen in April 1911. {boiler}")
    corroboration = Corroboration(weight=0.5, similarity=0.35)
    # the shared footer does not bear on the question: it makes reopening and archive no closer
    assert corroboration.counts(question, scored(reopening, fire_1, fire_2)) == [0, 1, 1]


def test_weight_zero_is_off() -> None:
    hits = scored(TARGET, REPORT_1, OTHER, REPORT_2, REPORT_3)
    assert Corroboration(weight=0.0, similarity=0.35).rerank(QUESTION_ZH, hits) == hits


# three reports of the 2023 final, one of the 2022 final: the question names 2022
FINAL_2022 = make_chunk(
    "final-2022", "8月14日，2022星河杯帆船赛决赛，林海川在最后一轮超过周远航，夺得星河杯帆船赛冠军。"
)
FINALS_2023 = [
    make_chunk(f"final-2023-{i}", text)
    for i, text in enumerate(
        [
            "王启帆以三轮连胜领先陈思远，夺得2023年星河杯帆船赛冠军，这是他第6个星河杯帆船赛冠军。",
            "2023年星河杯帆船赛决赛，王启帆领先陈思远夺得冠军，这是他第6个星河杯帆船赛冠军。",
            "王启帆领先陈思远，夺得2023年星河杯帆船赛冠军，第6个星河杯帆船赛冠军。",
        ],
        start=1,
    )
]


def test_reports_of_another_year_than_the_question_names_corroborate_nothing() -> None:
    hits = scored(FINALS_2023[0], FINAL_2022, *FINALS_2023[1:])
    corroboration = Corroboration(weight=0.5, similarity=0.35)
    assert corroboration.counts("2022年星河杯帆船赛冠军", hits) == [0, 0, 0, 0]
    assert corroboration.rerank("2022年星河杯帆船赛冠军", hits) == hits
    # about 2023 they agree; and asked for a time, a year is the answer, not another event
    assert corroboration.counts("2023年星河杯帆船赛冠军", hits) == [2, 0, 2, 2]
    assert corroboration.counts("王启帆在2022年之后哪一年夺得星河杯帆船赛冠军", hits) == [2, 0, 2, 2]
