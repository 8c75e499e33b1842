"""The refusal signal: how much of the question's rare-word weight the best passage covers, measured on
the sample documents ingested by the real pipeline (no generation)."""

from __future__ import annotations

import pytest

from rag.components import Components
from rag.query.evidence import EvidenceStrength
from rag.query.numbered import numbered_names
from rag.query.passages import Passage
from rag.query.request import QueryRequest
from rag.query.terms import QueryTerms
from rag_core.tokens import match_forms, question_terms
from tests.query._support import SAMPLES_COLLECTION
from vectorstore.lexical import TermStats

ANSWERABLE = [
    "How long does the NR-7 run on one charge?",
    "How many vacation days do full-time employees earn per month?",
    "国内出差住宿费每晚不超过多少钱？",
    "出差结束后多少天内要提交报销申请？",
]
ABSENT = [
    "What is the boiling point of liquid nitrogen?",
    "Who won the Velmora regatta in 1998?",
    "公司的股票期权如何分配？",
    "新员工的试用期是几个月？",
]


def strength(components: Components, question: str) -> EvidenceStrength:
    pipeline = components.query_pipeline()
    _, evidence = pipeline.prompt_passages(pipeline.prepare(QueryRequest(question, SAMPLES_COLLECTION)))
    return evidence


@pytest.mark.parametrize("question", ANSWERABLE)
def test_answerable_question_has_high_term_coverage(e2e: Components, question: str) -> None:
    evidence = strength(e2e, question)
    minimum = e2e.settings.answer
    assert evidence.term_coverage >= max(0.6, minimum.min_term_coverage), evidence
    assert evidence.sufficient(minimum.min_term_coverage, minimum.min_dense_score)


@pytest.mark.parametrize("question", ABSENT)
def test_question_about_something_never_mentioned_has_low_term_coverage(
    e2e: Components, question: str
) -> None:
    evidence = strength(e2e, question)
    minimum = e2e.settings.answer
    assert evidence.term_coverage < min(0.4, minimum.min_term_coverage), evidence
    assert not evidence.sufficient(minimum.min_term_coverage, minimum.min_dense_score)


def test_chinese_evidence_does_not_trust_the_english_embedder(e2e: Components) -> None:
    evidence = strength(e2e, "国内出差住宿费每晚不超过多少钱？")
    assert evidence.dense_weight == 0.0
    # a high dense score alone would not count for a question the embedder cannot read
    assert not EvidenceStrength(0.0, 0.99, 0.0).sufficient(0.5, 0.6)
    assert EvidenceStrength(0.0, 0.99, 1.0).sufficient(0.5, 0.6)


def test_query_terms_leave_out_question_words_and_weigh_rare_terms_higher(e2e: Components) -> None:
    info = e2e.index.collection(SAMPLES_COLLECTION)
    terms = QueryTerms.of("How long does the NR-7 run on one charge?", TermStats(e2e.catalog, info))
    assert "how" not in terms.terms and "does" not in terms.terms and "long" not in terms.terms
    assert {"nr", "charge"} <= set(terms.terms)
    assert terms.idf["charge"] > terms.idf["nr"]  # NR-7 is in more chunks than "charge"
    assert QueryTerms.of("How is it?", TermStats(e2e.catalog, info)).terms == ()


def test_no_passages_means_no_coverage(e2e: Components) -> None:
    info = e2e.index.collection(SAMPLES_COLLECTION)
    stats = TermStats(e2e.catalog, info)
    evidence = EvidenceStrength.measure(QueryTerms.of("NR-7 charge", stats), [], 1.0)
    assert evidence.term_coverage == 0.0 and evidence.dense == 0.0


@pytest.mark.parametrize(
    ("question", "together", "scattered"),
    [
        (
            "Where was the Zorbex company founded?",
            "The Zorbex company was founded in Veltrana. It makes pumps.",
            "Zorbex makes pumps. The weather was mild that year. A new company opened. Sales fell. "
            "It was founded late. Veltrana is a city.",
        ),
        (
            "佐贝克斯公司在哪里创立？",
            "佐贝克斯公司创立于维尔特拉纳。它生产水泵。",
            "佐贝克斯生产水泵。那年天气温和。一家公司开张了。销量下降。它创立较晚。维尔特拉纳是一座城市。",
        ),
    ],
)
def test_question_words_scattered_over_a_passage_cover_less_than_words_said_together(
    question: str, together: str, scattered: str
) -> None:
    """Words a foreign question shares with a passage by chance are scattered over it; an answer
    repeats the question's words in one place."""
    terms = tuple(question_terms(question))
    query = QueryTerms(terms, dict.fromkeys(terms, 1.0), tuple(match_forms(terms)))

    def coverage(text: str) -> float:
        passage = Passage("d", "d.txt", "", None, "", text, 0, len(text), 1.0)
        return EvidenceStrength.measure(query, [passage], 0.0).term_coverage

    assert coverage(together) == 1.0
    assert coverage(scattered) <= 0.5


def test_a_chinese_word_written_differently_counts_half_its_shared_characters() -> None:
    terms = ("资助", "王启帆")
    query = QueryTerms(terms, {"资助": 1.0, "王启帆": 1.0}, tuple(match_forms(terms)))
    assert query.coverage(["王启帆靠卖画获得资助。"]) == 1.0
    assert query.coverage(["王启帆靠卖画获得资金。"]) == (1 + 0.5 * 0.5) / 2  # 资 is half of 资助
    assert query.coverage(["周远航获得了贷款。"]) == 0.0
    english = QueryTerms(("funding",), {"funding": 1.0}, tuple(match_forms(["funding"])))
    assert english.coverage(["Funds paid."]) == 1.0 and english.coverage(["Fun paid."]) == 0.0


def test_a_question_about_a_year_the_evidence_does_not_name_is_not_answered(e2e: Components) -> None:
    minimum = e2e.settings.answer
    dated = strength(e2e, "Which kit did the November 2025 release add support for?")
    assert dated.unmatched == frozenset()
    assert dated.sufficient(minimum.min_term_coverage, minimum.min_dense_score)
    # the release notes name 2025 and 2026: about 2023 they would give another release's facts
    other = strength(e2e, "Which kit did the 2023 release add support for?")
    assert other.unmatched == {"2023"}
    assert not other.sufficient(minimum.min_term_coverage, minimum.min_dense_score)


def test_undated_evidence_does_not_count_against_a_year_in_the_question(e2e: Components) -> None:
    evidence = strength(e2e, "2025年国内出差住宿费每晚不超过多少钱？")  # the policy names no year
    assert evidence.unmatched == frozenset()
    minimum = e2e.settings.answer
    assert evidence.sufficient(minimum.min_term_coverage, minimum.min_dense_score)


@pytest.mark.parametrize(
    "question",
    ["How long does the NR-8 run on one charge?", "What is the docking accuracy in version 5.0?"],
)
def test_a_question_about_another_model_or_version_than_the_evidence_is_not_answered(
    e2e: Components, question: str
) -> None:
    # the samples describe the NR-7 and firmware 4.1 / 4.2: their figures do not answer for others
    minimum = e2e.settings.answer
    assert not strength(e2e, question).sufficient(minimum.min_term_coverage, minimum.min_dense_score)
    same = question.replace("NR-8", "NR-7").replace("5.0", "4.2")
    assert strength(e2e, same).sufficient(minimum.min_term_coverage, minimum.min_dense_score)


@pytest.mark.parametrize(
    ("passage", "answers"),
    [
        ("第六届青川县议事会共有35个席位。", False),  # another edition's figure
        ("第七届青川县议事会共有45个席位。", True),
        ("本届青川县议事会共有45个席位，比第六届多10席。", True),  # this (unnumbered) edition may be the one
    ],
)
def test_a_question_about_another_edition_of_a_chinese_series_is_not_answered(
    passage: str, answers: bool
) -> None:
    question = "第七届青川县议事会有多少个席位？"
    terms = tuple(question_terms(question))
    query = QueryTerms(
        terms, dict.fromkeys(terms, 1.0), tuple(match_forms(terms)), numbered=numbered_names(question)
    )
    evidence = [Passage("d", "d.txt", "议事会换届", None, "", passage, 0, len(passage), 1.0)]
    assert EvidenceStrength.measure(query, evidence, 0.0).sufficient(0.5, 0.5) is answers


def test_passages_in_another_script_have_their_own_dense_threshold() -> None:
    """A multilingual embedder scores a Chinese passage lower for an English question than an English one,
    whatever they say: each script relation has its own threshold (the same one unless set)."""
    english = "Visitors park in the east lot."
    chinese = "访客把车停在东侧停车场。"
    passages = [
        Passage("a", "a.txt", "", None, "", english, 0, len(english), 1.0, dense=0.81),
        Passage("b", "b.txt", "", None, "", chinese, 0, len(chinese), 0.9, dense=0.79),
    ]
    query = QueryTerms((), {})
    evidence = EvidenceStrength.measure(query, passages, 1.0, "latin")
    assert (evidence.dense, evidence.dense_across) == (0.81, 0.79)
    assert evidence.sufficient(0.5, 0.86, 0.78)  # the Chinese passage reaches its threshold
    assert not evidence.sufficient(0.5, 0.86, 0.80)
    assert evidence.sufficient(0.5, 0.5)  # one threshold for both, as before
    unscripted = EvidenceStrength.measure(query, passages, 1.0)
    assert (unscripted.dense, unscripted.dense_across) == (0.81, 0.0)
