"""Compression for the prompt: whole passages when they fit the token budget (counted by the real
embedder's tokenizer), else a contiguous window of each around its best sentence, best passage first;
English and Chinese."""

from __future__ import annotations

import pytest

from rag.query.compress import ContextCompressor
from rag.query.passages import Passage, merge_chunks
from rag_models.embeddings import SentenceTransformerEmbedder
from tests.query.records import make_chunk, scored


def tokens(embedder: SentenceTransformerEmbedder, text: str) -> int:
    return embedder.token_lengths([text])[0]


QUESTION = "How long does the NR-7 battery charge take?"
PASSAGES = [
    (
        "faq",
        "The NR-7 is our warehouse robot. A full NR-7 battery charge takes ninety minutes. "
        "The robot docks by itself. Its lidar stops it near people.",
    ),
    (
        "notes",
        "Version 4.2 improved docking. The battery charge level is shown on the display. "
        "The status light bug was fixed. Wi-Fi reconnects faster.",
    ),
    (
        "handbook",
        "Employees earn vacation days. The battery of a company laptop lasts a workday. "
        "Lost equipment must be reported. Core hours are ten to three.",
    ),
    (
        "canteen",
        "The canteen opens at noon. The charge for a coffee is one euro. "
        "A vegetarian dish is offered daily. The canteen closes at two.",
    ),
]


def passages(*texts: tuple[str, str]) -> list[Passage]:
    return merge_chunks(scored(*(make_chunk(doc, text) for doc, text in texts)))


def test_passages_that_fit_are_handed_on_whole(embedder: SentenceTransformerEmbedder) -> None:
    fitted = ContextCompressor(embedder).fit(QUESTION, passages(*PASSAGES), budget_tokens=1000)
    assert [p.text for p in fitted] == [t for _, t in PASSAGES]
    assert fitted[0].core == "A full NR-7 battery charge takes ninety minutes."
    assert ContextCompressor(embedder).fit(QUESTION, [], budget_tokens=100) == []


def test_cut_passages_fit_the_budget_as_contiguous_windows(embedder: SentenceTransformerEmbedder) -> None:
    compressor = ContextCompressor(embedder)
    whole = passages(*PASSAGES)
    full = sum(embedder.token_lengths([t for _, t in PASSAGES]))
    for budget in (40, 60, 90):
        fitted = compressor.fit(QUESTION, passages(*PASSAGES), budget_tokens=budget)
        assert fitted
        assert sum(embedder.token_lengths([p.text for p in fitted])) <= budget < full
        for cut in fitted:
            source = next(p for p in whole if p.doc_id == cut.doc_id)
            assert cut.text in source.text and cut.core in cut.text  # one run of its sentences
            assert source.text[cut.start - source.start : cut.end - source.start] == cut.text


def test_best_passage_comes_first_and_a_weak_one_whose_core_does_not_fit_is_left_out(
    embedder: SentenceTransformerEmbedder,
) -> None:
    core_faq = "A full NR-7 battery charge takes ninety minutes."
    core_notes = "The battery charge level is shown on the display."
    budget = tokens(embedder, core_faq) + tokens(embedder, core_notes)
    fitted = ContextCompressor(embedder).fit(QUESTION, passages(*PASSAGES), budget_tokens=budget)
    assert [p.text for p in fitted] == [core_faq, core_notes]


def test_the_window_grows_a_sentence_after_and_before_the_core(embedder: SentenceTransformerEmbedder) -> None:
    sentences = [
        "The Riverside plant has a long history.",
        "It was founded by two brothers.",
        "They built the first frames by hand.",
        "Today the Porto supplier delivers titanium sprockets every Monday.",
        "Deliveries are checked at the gate.",
        "Rejected parts go back within a week.",
    ]
    question = "Which supplier delivers the titanium sprockets?"
    compressor = ContextCompressor(embedder)
    core = sentences[3]
    plant = ("plant", " ".join(sentences))
    (tight,) = compressor.fit(question, passages(plant), budget_tokens=tokens(embedder, core))
    assert tight.text == core
    after = tokens(embedder, core) + tokens(embedder, sentences[4])
    (one,) = compressor.fit(question, passages(plant), budget_tokens=after)
    assert one.text == " ".join(sentences[3:5])
    both = after + tokens(embedder, sentences[2])
    (wider,) = compressor.fit(question, passages(plant), budget_tokens=both)
    assert wider.text == " ".join(sentences[2:5])


def test_a_list_keeps_its_lines(embedder: SentenceTransformerEmbedder) -> None:
    steps = "To reset the router:\n1. Hold the reset button for ten seconds.\n2. Wait for the blue light."
    other = "The router ships with a power cable. The warranty lasts two years. Returns take a month."
    fitted = ContextCompressor(embedder).fit(
        "How do I reset the router?", passages(("router", f"{other}\n\n{steps}")), budget_tokens=40
    )
    assert steps in fitted[0].text


@pytest.mark.parametrize("mark", ["。", "！", "？", "；"])
def test_chinese_sentences_split_at_full_width_marks(
    embedder: SentenceTransformerEmbedder, mark: str
) -> None:
    core = f"员工报销申请需在出差结束后十五天内提交{mark}"
    text = f"公司总部位于上海{mark}{core}每张发票都要有经理签字{mark}午饭在食堂供应{mark}"
    (passage,) = ContextCompressor(embedder).fit(
        "报销申请多少天内提交？", passages(("travel", text)), budget_tokens=tokens(embedder, core)
    )
    assert passage.text == core


def test_chinese_passages_fit_the_budget_and_keep_the_answer(embedder: SentenceTransformerEmbedder) -> None:
    texts = [
        ("travel", "国内出差住宿费每晚不超过六百元。北京和上海每晚不超过八百元。国际出差另行审批。"),
        ("leave", "员工每年享有十五天带薪年假。病假需要医院证明。加班可以调休。"),
        ("meals", "国内出差每天餐费补贴一百元。国际出差每天五十美元。"),
    ]
    fitted = ContextCompressor(embedder).fit(
        "国内出差住宿费每晚不超过多少钱？", passages(*texts), budget_tokens=40
    )
    assert sum(embedder.token_lengths([p.text for p in fitted])) <= 40
    assert fitted[0].doc_id == "travel"
    assert "国内出差住宿费每晚不超过六百元。" in fitted[0].text


def test_a_line_that_only_repeats_the_title_is_not_the_core(embedder: SentenceTransformerEmbedder) -> None:
    """The source label shows the title; its words matching the question say nothing about the answer."""
    title = "Timid Otter (TV series)"
    body = 'Timid Otter is an animated series based on the "Timid Otter" books by Liesl Varga.'
    chunk = make_chunk("otter", f"{title}\n\n{body}", title=title)
    question = "Who wrote Timid Otter?"  # the title and the answer hold the same question words
    (passage,) = ContextCompressor(embedder).fit(
        question, merge_chunks(scored(chunk)), budget_tokens=tokens(embedder, body)
    )
    assert passage.text == body and passage.core == body
