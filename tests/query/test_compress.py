"""Context compression: merging chunks into passages, sentence-level trimming under a token budget counted
by the real embedder's tokenizer, best evidence first; English and Chinese."""

from __future__ import annotations

import pytest

from rag.embeddings import SentenceTransformerEmbedder
from rag.query.compress import ContextCompressor, merge_chunks
from rag.types import ScoredChunk
from tests.query.records import make_chunk, scored

DOC = (
    "The plant opened in 1998. It assembles bicycle frames for three brands. "
    "Sprockets arrive weekly from Porto. Rejected sprockets go back within five days."
)


def tokens(embedder: SentenceTransformerEmbedder, text: str) -> int:
    return embedder.token_lengths([text])[0]


# merge_chunks ------------------------------------------------------------------------------------


def test_overlapping_chunks_of_one_document_merge_into_its_text() -> None:
    a = make_chunk("plant", DOC[:72], index=0, start=0)
    b = make_chunk("plant", DOC[47:], index=1, start=47)  # overlaps a by 25 characters
    for hits in (scored(a, b), scored(b, a)):  # whichever ranks first
        (passage,) = merge_chunks(hits)
        assert passage.text == DOC
        assert (passage.start, passage.end) == (0, len(DOC))
        assert sorted(passage.chunk_ids) == sorted([a.id, b.id])
        assert sorted(passage.chunk_indexes) == [0, 1]
        assert passage.score == hits[0].score


def test_adjacent_chunks_merge_and_others_stay_apart() -> None:
    first = make_chunk("plant", "The plant opened in 1998.", index=0, start=0)
    second = make_chunk("plant", "Sprockets arrive weekly.", index=1, start=first.end + 2)
    far = make_chunk("plant", "The canteen closes at two.", index=7, start=900)
    other = make_chunk("office", "The office opened in 2001.", index=1, start=first.end + 2)
    hits = scored(first, other, far, second)
    hits[3].scores["dense"] = 0.8
    passages = merge_chunks(hits)
    assert [p.doc_id for p in passages] == ["plant", "office", "plant"]
    merged = passages[0]
    assert merged.text == "The plant opened in 1998.\nSprockets arrive weekly."
    assert merged.chunk_ids == [first.id, second.id]
    assert merged.dense == 0.8  # the best dense score of its chunks
    assert passages[1].text == other.text and passages[2].text == far.text


def test_a_chunk_inside_a_passage_adds_nothing_to_its_text() -> None:
    whole = make_chunk("plant", DOC, index=0, start=0)
    inner = make_chunk("plant", DOC[26:71], index=1, start=26)
    (passage,) = merge_chunks(scored(whole, inner))
    assert passage.text == DOC and passage.chunk_ids == [whole.id, inner.id]


def test_chunks_of_different_pages_keep_their_own_page() -> None:
    page3 = make_chunk("guide", "The assembly point is the north car park.", index=2, start=0, page=3)
    page4 = make_chunk("guide", "The canteen serves lunch from noon.", index=3, start=page3.end + 2, page=4)
    passages = merge_chunks(scored(page3, page4))
    for p in passages:
        if "canteen" in p.text:
            assert p.page == 4, p


# ContextCompressor -------------------------------------------------------------------------------

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


def candidates() -> list[ScoredChunk]:
    return scored(*(make_chunk(doc, text) for doc, text in PASSAGES))


def test_context_fits_the_token_budget(embedder: SentenceTransformerEmbedder) -> None:
    compressor = ContextCompressor(embedder)
    full = sum(embedder.token_lengths([t for _, t in PASSAGES]))
    for budget in (40, 60, 90):
        passages = compressor.compress(QUESTION, candidates(), top_k=4, budget_tokens=budget)
        assert passages
        used = sum(embedder.token_lengths([p.text for p in passages]))
        assert used <= budget < full, (budget, [p.text for p in passages])


def test_best_passage_comes_first_and_the_weakest_is_left_out(embedder: SentenceTransformerEmbedder) -> None:
    compressor = ContextCompressor(embedder, sentences_by_rank=(1,))
    core_faq = "A full NR-7 battery charge takes ninety minutes."
    core_notes = "The battery charge level is shown on the display."
    budget = tokens(embedder, core_faq) + tokens(embedder, core_notes)
    passages = compressor.compress(QUESTION, candidates(), top_k=4, budget_tokens=budget)
    assert [p.doc_id for p in passages] == ["faq", "notes"]
    assert [p.text for p in passages] == [core_faq, core_notes]


def test_the_best_passage_keeps_its_next_best_sentences_first(embedder: SentenceTransformerEmbedder) -> None:
    sentences = [
        "The Riverside plant opened in 1998 and assembles bicycle frames.",
        "Visitors sign in at the gate.",
        "The canteen opens at noon.",
        "Sprockets for the frames come from a supplier in Porto.",
    ]
    question = "Where do the sprockets for the Riverside frames come from?"
    hits = scored(
        make_chunk("plant", " ".join(sentences)), make_chunk("office", "The office opened in 2001.")
    )
    compressor = ContextCompressor(embedder, sentences_by_rank=(3, 2, 1))
    (best, second) = compressor.compress(question, hits, top_k=2, budget_tokens=1000)
    assert best.core == f"{sentences[0]} … {sentences[3]}" and second.text == "The office opened in 2001."

    # both matching sentences of the best passage, not their neighbours, when the budget allows no more;
    # the second passage's core comes after the best passage's extra sentence
    budget = tokens(embedder, sentences[0]) + tokens(embedder, sentences[3])
    hits = scored(
        make_chunk("plant", " ".join(sentences)), make_chunk("office", "The office opened in 2001.")
    )
    passages = compressor.compress(question, hits, top_k=2, budget_tokens=budget)
    assert [p.text for p in passages] == [f"{sentences[0]} {sentences[3]}"]

    # a tighter budget drops the extra sentence, never the core
    hits = scored(make_chunk("plant", " ".join(sentences)))
    (tight,) = compressor.compress(question, hits, top_k=1, budget_tokens=tokens(embedder, sentences[3]) + 2)
    assert tight.text == sentences[3]

    # with one sentence per passage the extra sentence is not kept
    hits = scored(make_chunk("plant", " ".join(sentences)))
    (core_only,) = ContextCompressor(embedder, sentences_by_rank=(1,)).compress(
        question, hits, top_k=1, budget_tokens=budget
    )
    assert sentences[0] not in core_only.text and sentences[3] in core_only.text


def test_top_k_limits_the_passages(embedder: SentenceTransformerEmbedder) -> None:
    passages = ContextCompressor(embedder).compress(QUESTION, candidates(), top_k=2, budget_tokens=1000)
    assert [p.doc_id for p in passages] == ["faq", "notes"]
    assert ContextCompressor(embedder).compress(QUESTION, [], top_k=2, budget_tokens=100) == []


def test_the_core_sentence_is_kept_and_widened_with_its_neighbours(
    embedder: SentenceTransformerEmbedder,
) -> None:
    sentences = [
        "The Riverside plant has a long history.",
        "It was founded by two brothers.",
        "They built the first frames by hand.",
        "Today the Porto supplier delivers titanium sprockets every Monday.",
        "Deliveries are checked at the gate.",
        "Rejected parts go back within a week.",
    ]
    hits = scored(make_chunk("plant", " ".join(sentences)))
    compressor = ContextCompressor(embedder)
    question = "Which supplier delivers the titanium sprockets?"
    core = sentences[3]

    (tight,) = compressor.compress(question, hits, top_k=1, budget_tokens=tokens(embedder, core))
    assert tight.text == core

    neighbours = tokens(embedder, core) + tokens(embedder, sentences[2]) + tokens(embedder, sentences[4])
    hits = scored(make_chunk("plant", " ".join(sentences)))
    (wider,) = compressor.compress(question, hits, top_k=1, budget_tokens=neighbours)
    assert wider.text == " ".join(sentences[2:5])


def test_trim_false_keeps_whole_passages(embedder: SentenceTransformerEmbedder) -> None:
    compressor = ContextCompressor(embedder)
    passages = compressor.compress(QUESTION, candidates(), top_k=4, budget_tokens=1000, trim=False)
    assert [p.text for p in passages] == [t for _, t in PASSAGES]

    budget = tokens(embedder, PASSAGES[0][1]) + tokens(embedder, PASSAGES[1][1]) + 5
    passages = compressor.compress(QUESTION, candidates(), top_k=4, budget_tokens=budget, trim=False)
    assert [p.text for p in passages] == [PASSAGES[0][1], PASSAGES[1][1]]  # whole, or left out


def test_trim_false_cuts_a_single_passage_longer_than_the_budget(
    embedder: SentenceTransformerEmbedder,
) -> None:
    compressor = ContextCompressor(embedder)
    (only,) = compressor.compress(QUESTION, candidates(), top_k=4, budget_tokens=10, trim=False)
    assert PASSAGES[0][1].startswith(only.text) and tokens(embedder, only.text) <= 10


@pytest.mark.parametrize("mark", ["。", "！", "？", "；"])
def test_chinese_sentences_split_at_full_width_marks(
    embedder: SentenceTransformerEmbedder, mark: str
) -> None:
    core = f"员工报销申请需在出差结束后十五天内提交{mark}"
    text = f"公司总部位于上海{mark}{core}每张发票都要有经理签字{mark}午饭在食堂供应{mark}"
    hits = scored(make_chunk("travel", text))
    compressor = ContextCompressor(embedder)
    (passage,) = compressor.compress(
        "报销申请多少天内提交？", hits, top_k=1, budget_tokens=tokens(embedder, core)
    )
    assert passage.text == core


def test_chinese_passages_fit_the_budget_and_keep_the_answer(embedder: SentenceTransformerEmbedder) -> None:
    texts = [
        ("travel", "国内出差住宿费每晚不超过六百元。北京和上海每晚不超过八百元。国际出差另行审批。"),
        ("leave", "员工每年享有十五天带薪年假。病假需要医院证明。加班可以调休。"),
        ("meals", "国内出差每天餐费补贴一百元。国际出差每天五十美元。"),
    ]
    hits = scored(*(make_chunk(doc, t) for doc, t in texts))
    passages = ContextCompressor(embedder).compress(
        "国内出差住宿费每晚不超过多少钱？", hits, top_k=3, budget_tokens=40
    )
    assert sum(embedder.token_lengths([p.text for p in passages])) <= 40
    assert passages[0].doc_id == "travel"
    assert "国内出差住宿费每晚不超过六百元。" in passages[0].text


@pytest.mark.parametrize(
    ("antecedent", "core", "after", "question"),
    [
        (
            "The Velmora glassworks fires its lenses in sealed kiln chambers.",
            "These devices also harden the glass of lighthouse lenses.",
            "Workers wait.",
            "What device hardens the glass of lighthouse lenses?",
        ),
        (
            "The Velmora glassworks fires its lenses in sealed kiln chambers.",
            "The glass of lighthouse lenses is hardened using these devices.",
            "Workers wait.",
            "What device hardens the glass of lighthouse lenses?",
        ),
        (
            "青川县的玻璃厂使用特殊的密封窑室来提高烧制温度。",
            "这些设备也被用来硬化灯塔透镜的玻璃。",
            "工人需等待。",
            "什么设备用于硬化灯塔透镜的玻璃？",
        ),
    ],
)
def test_a_sentence_that_refers_back_keeps_the_sentence_it_refers_to(
    embedder: SentenceTransformerEmbedder, antecedent: str, core: str, after: str, question: str
) -> None:
    # Widening alone would add the sentence after the core first and then run out of budget.
    gap = " " if core.isascii() else ""
    text = gap.join([antecedent, core, after])
    compressor = ContextCompressor(embedder, sentences_by_rank=(1,))
    budget = tokens(embedder, antecedent) + tokens(embedder, core) + 1
    assert tokens(embedder, after) < tokens(embedder, antecedent)
    (passage,) = compressor.compress(question, scored(make_chunk("med", text)), top_k=1, budget_tokens=budget)
    assert antecedent in passage.text and core in passage.text and after not in passage.text


@pytest.mark.parametrize(
    "core",
    [
        'Several films, such as "Iron Harbour" (1979), were made on location near Millbrook.',
        "Those who filmed in Millbrook in 1979 included the crew of the film Iron Harbour.",
    ],
)
def test_such_as_and_those_who_refer_back_to_nothing(
    embedder: SentenceTransformerEmbedder, core: str
) -> None:
    # The sentence before the core says nothing of the question; kept as an antecedent, it would take
    # the room of the second document, which holds the answer.
    town = " ".join(["Millbrook is a village in Tarrow.", "Its population was 4,318 in 2010.", core])
    film = "Iron Harbour is a 1979 film directed by Mara Quell."
    compressor = ContextCompressor(embedder, sentences_by_rank=(1,))
    budget = tokens(embedder, core) + tokens(embedder, film) + 2
    passages = compressor.compress(
        "Who directed the film shot in Millbrook in 1979?",
        scored(make_chunk("town", town), make_chunk("film", film)),
        top_k=2,
        budget_tokens=budget,
    )
    assert [p.doc_id for p in passages] == ["town", "film"]
    assert "population" not in passages[0].text


def test_chinese_words_segmented_differently_still_match_on_their_characters(
    embedder: SentenceTransformerEmbedder,
) -> None:
    answer = "该地区拥有两个人口超过八十万的大都市。"
    text = "青川地区气候温和。" + answer  # jieba: 都市区 in the question, 大都市 / 都市 in the answer
    compressor = ContextCompressor(embedder, sentences_by_rank=(1,))
    (passage,) = compressor.compress(
        "这个地区有几个都市区？",
        scored(make_chunk("qingchuan", text)),
        top_k=1,
        budget_tokens=tokens(embedder, answer),
    )
    assert passage.text == answer


def test_a_sentence_between_two_kept_ones_comes_before_the_neighbours(
    embedder: SentenceTransformerEmbedder,
) -> None:
    extra = "The titanium sprockets are made in Porto."
    gap = "Quality control happens on site."
    core = "The Porto supplier ships titanium sprockets every Monday."
    after = "Trucks wait."
    text = " ".join(["The plant has a canteen.", extra, gap, core, after])
    compressor = ContextCompressor(embedder, sentences_by_rank=(2,))
    assert tokens(embedder, after) <= tokens(embedder, gap)
    budget = sum(tokens(embedder, s) for s in (extra, gap, core)) + 1
    (passage,) = compressor.compress(
        "When does the Porto supplier ship titanium sprockets?",
        scored(make_chunk("plant", text)),
        top_k=1,
        budget_tokens=budget,
    )
    assert passage.text == " ".join([extra, gap, core])


def test_the_best_passage_reads_on_between_its_kept_sentences_before_a_weaker_passage_comes_in(
    embedder: SentenceTransformerEmbedder,
) -> None:
    extra = "The titanium sprockets are made in Porto."
    gap = "Quality control happens on site."
    core = "The Porto supplier ships titanium sprockets every Monday."
    weaker = "Sprockets rust."
    compressor = ContextCompressor(embedder, sentences_by_rank=(2, 1))
    budget = sum(tokens(embedder, s) for s in (extra, gap, core)) + 1
    assert tokens(embedder, weaker) <= tokens(embedder, gap)
    passages = compressor.compress(
        "When does the Porto supplier ship titanium sprockets?",
        scored(
            make_chunk("plant", " ".join(["The plant has a canteen.", extra, gap, core])),
            make_chunk("notes", weaker),
        ),
        top_k=2,
        budget_tokens=budget,
    )
    assert [p.text for p in passages] == [" ".join([extra, gap, core])]


def test_a_line_that_only_repeats_the_title_is_not_the_evidence_kept(
    embedder: SentenceTransformerEmbedder,
) -> None:
    """The source label shows the title; its words matching the question say nothing about the answer."""
    title = "Timid Otter (TV series)"
    body = 'Timid Otter is an animated series based on the "Timid Otter" books by Liesl Varga.'
    chunk = make_chunk("otter", f"{title}\n\n{body}", title=title)
    compressor = ContextCompressor(embedder, sentences_by_rank=(1,))
    question = "Who wrote Timid Otter?"  # the title and the answer hold the same question words
    (passage,) = compressor.compress(question, scored(chunk), top_k=1, budget_tokens=tokens(embedder, body))
    assert passage.text == body
