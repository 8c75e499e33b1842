from __future__ import annotations

import pytest

from rag.eval.dataset import Question
from rag.eval.metrics import (
    answer_correct,
    citation_precision,
    cited_sentences,
    context_support,
    groundedness,
    hits_at,
    is_hit,
    percentile,
    reciprocal_rank,
)
from rag.eval.scoring import ContextItem, Outcome, score
from rag.eval.summary import summarize
from rag.eval.text import contains_answer, normalize


def question(**changes: object) -> Question:
    base: dict[str, object] = {
        "id": "q1",
        "question": "How many crossings did the ferry make?",
        "answers": ("417",),
        "answerable": True,
        "gold_docs": ("ferry.txt",),
        "lang": "en",
    }
    base.update(changes)
    return Question(**base)  # type: ignore[arg-type]


def test_hit_needs_gold_doc_and_answer() -> None:
    assert is_hit("ferry.txt", "The ferry made just 417 crossings.", ["ferry.txt"], ["417"])
    assert not is_hit("ferry.txt", "The ferry was the busiest on the coast.", ["ferry.txt"], ["417"])
    assert not is_hit("other.txt", "It made 417 crossings.", ["ferry.txt"], ["417"])


def test_long_form_and_yes_no_questions_are_judged_by_the_gold_doc() -> None:
    assert is_hit("plan.pdf", "anything from the plan", ["plan.pdf"], [])
    assert is_hit("marrow.txt", "Ilse Marrow is a glassblower.", ["marrow.txt"], ["yes"])


def test_miss_everywhere() -> None:
    flags = [False, False, False]
    assert hits_at(flags) == {1: False, 3: False, 5: False, 10: False}
    assert reciprocal_rank(flags) == 0.0


def test_hit_at_rank_three() -> None:
    flags = [False, False, True, False]
    assert hits_at(flags) == {1: False, 3: True, 5: True, 10: True}
    assert reciprocal_rank(flags) == pytest.approx(1 / 3)


def test_mrr_only_counts_the_first_ten() -> None:
    assert reciprocal_rank([False] * 10 + [True]) == 0.0


def test_answer_matching_ignores_case_and_whitespace() -> None:
    assert contains_answer("It was   TOVAN\nbrisk who steered.", ["Tovan Brisk"])
    assert not contains_answer("I do not know.", ["no"])
    assert contains_answer("No, he was not.", ["no"])


def test_chinese_ignores_spaces_and_width() -> None:
    assert normalize("４１７ 班", cjk=True) == "417班"
    assert contains_answer("星河港的渡轮只开了 417 班。", ["417班"], "zh")
    assert contains_answer("星河港的渡轮只开了４１７班。", ["417 班"], "zh")
    assert contains_answer("船长是艾琳 · 瓦德", ["艾琳·瓦德"], "zh")
    assert not contains_answer("星河港的渡轮只开了 471 班。", ["417班"], "zh")


def test_answer_accuracy() -> None:
    assert answer_correct("It made 417 crossings [1].", ["417"]) is True
    assert answer_correct("It made 471 crossings.", ["417"]) is False
    assert answer_correct("A long answer.", []) is None


def test_unanswerable_refused_and_not_refused() -> None:
    unanswerable = question(answerable=False, answers=(), gold_docs=())
    context = [ContextItem("ferry.txt", "The ferry made 417 crossings.")]
    refused = score(unanswerable, Outcome(context=context, answer="No answer.", refused=True))
    answered = score(unanswerable, Outcome(context=context, answer="It cost 5 dollars [1].", cited=[1]))
    assert refused.hits == {} and refused.correct is None
    summary = summarize([refused, answered])
    assert summary["unanswerable"] == 2
    assert summary["answers"]["refusal_rate"] == 0.5
    assert summary["answers"]["false_refusal_rate"] is None


def test_false_refusal_counts_as_wrong() -> None:
    context = [ContextItem("ferry.txt", "The ferry made 417 crossings.")]
    record = score(question(), Outcome(context=context, answer="I don't know.", refused=True))
    assert record.correct is False and record.citation_precision is None
    assert summarize([record])["answers"]["false_refusal_rate"] == 1.0


def test_citation_precision_with_a_cited_non_hit() -> None:
    context = [
        ContextItem("ferry.txt", "The ferry made 417 crossings."),
        ContextItem("other.txt", "The harbour has 12 berths."),
    ]
    record = score(question(), Outcome(context=context, answer="417 crossings [1][2].", cited=[1, 2]))
    assert [c["hit"] for c in record.citations] == [True, False]
    assert record.citation_precision == 0.5
    assert citation_precision([]) == 0.0
    uncited = score(question(), Outcome(context=context, answer="417 crossings."))
    assert uncited.citation_precision == 0.0


def test_groundedness_supported_and_unsupported_sentence() -> None:
    sources = {1: "The Velmora ferry made just 417 crossings, the fewest in six years."}
    answer = "The Velmora ferry made 417 crossings [1]. The moon is made of green cheese [1]."
    assert groundedness(answer, sources, [1]) == 0.5
    assert groundedness("The Velmora ferry made 417 crossings [1].", sources, [1]) == 1.0
    assert groundedness("The Velmora ferry made 417 crossings.", sources, []) == 0.0
    assert context_support("The Velmora ferry made 417 crossings.", list(sources.values())) == 1.0


def test_groundedness_in_chinese() -> None:
    sources = {1: "星河港的渡轮只开了 417 班，是六年来最少的一年。"}
    assert groundedness("星河港的渡轮开了417班[1]。月亮是奶酪做的[1]。", sources, [1]) == 0.5


def test_markers_after_the_full_stop_belong_to_the_sentence_before() -> None:
    assert cited_sentences("Velmora is the capital. [2] It is big [1].") == [
        ("Velmora is the capital.", [2]),
        ("It is big.", [1]),
    ]


def test_percentile_interpolates() -> None:
    assert percentile([1.0, 2.0, 3.0, 4.0], 50) == 2.5
    assert percentile([5.0], 95) == 5.0
    assert percentile([], 50) is None


def test_summary_over_a_small_run() -> None:
    context = [
        ContextItem("other.txt", "Nothing here."),
        ContextItem("other.txt", "Nor here."),
        ContextItem("ferry.txt", "It made 417 crossings."),
    ]
    timings = {"retrieve": 0.1, "total": 0.2}
    first = score(question(), Outcome(context=context, timings=timings))
    second = score(question(id="q2"), Outcome(context=context[2:], timings=timings))
    failed = score(question(id="q3"), Outcome(context=[], error="boom"))
    summary = summarize([first, second, failed])
    assert summary["errors"] == 1
    assert summary["retrieval"]["hit@1"] == 0.5
    assert summary["retrieval"]["hit@3"] == 1.0
    assert summary["retrieval"]["mrr@10"] == pytest.approx((1 / 3 + 1) / 2, abs=1e-4)
    assert summary["answers"] == {}
    assert summary["latency"]["total"]["p50"] == 0.2


def test_reach_says_which_stage_lost_the_answer() -> None:
    hit = ContextItem("ferry.txt", "It made 417 crossings.")
    miss = ContextItem("other.txt", "Nothing here.")
    stages = {"retrieve": [miss, hit], "rerank": [hit]}
    kept = score(question(), Outcome(context=[hit], stages=stages))
    cut = score(question(id="q2"), Outcome(context=[miss], stages=stages))
    reranked_away = score(
        question(id="q3"), Outcome(context=[miss], stages={"retrieve": [hit], "rerank": [miss]})
    )
    assert kept.reach == {"retrieve": True, "rerank": True, "context": True}
    assert cut.reach == {"retrieve": True, "rerank": True, "context": False}
    assert reranked_away.reach == {"retrieve": True, "rerank": False, "context": False}
    assert score(question(id="q4"), Outcome(context=[hit])).reach == {}  # a system without stages
    summary = summarize([kept, cut, reranked_away])
    assert summary["reach"] == {
        "retrieve": 1.0,
        "rerank": pytest.approx(0.6667),
        "context": pytest.approx(0.3333),
    }
