"""Sentence splitting and token-sized, structure-aware chunking, measured with the real embedder tokenizer."""

from __future__ import annotations

import itertools

import pytest

from ingest.chunking import ChunkDraft, Chunker
from rag_core.sentences import sentence_spans
from rag_core.types import LoadedDocument, Section
from rag_models.embeddings import SentenceTransformerEmbedder
from tests.helpers import shared_embedder


@pytest.fixture(scope="module")
def embedder() -> SentenceTransformerEmbedder:
    return shared_embedder()


def sentences(text: str) -> list[str]:
    spans = sentence_spans(text)
    for a, b in spans:
        assert a < b and text[a:b] == text[a:b].strip()
    return [text[a:b] for a, b in spans]


def make_doc(*sections: Section, title: str = "Doc") -> LoadedDocument:
    return LoadedDocument(title=title, file_type="txt", sections=list(sections))


def measured(embedder: SentenceTransformerEmbedder, draft: ChunkDraft) -> int:
    return embedder.token_lengths([draft.text])[0]


def check_spans(doc: LoadedDocument, drafts: list[ChunkDraft]) -> None:
    for d in drafts:
        assert d.text.strip(), "empty chunk"
        assert doc.text[d.start : d.end] == d.text
        assert d.start < d.end


# sentence_spans -----------------------------------------------------------------------------------


def test_english_sentences() -> None:
    text = "The robot vacuums daily. Does it climb stairs? No! It costs 3.5 dollars per day... Really."
    assert sentences(text) == [
        "The robot vacuums daily.",
        "Does it climb stairs?",
        "No!",
        "It costs 3.5 dollars per day...",
        "Really.",
    ]
    assert sentences('He said "stop." Then he left.') == ['He said "stop."', "Then he left."]
    assert sentences("A version like v1.2.3 or example.com stays whole") == [
        "A version like v1.2.3 or example.com stays whole"
    ]


def test_a_period_before_a_lower_case_word_ends_no_sentence() -> None:
    text = "Two strains, V. k. tarsalis and V. k. ostrina, were found. Approx. ten ponds held them."
    assert sentences(text) == [
        "Two strains, V. k. tarsalis and V. k. ostrina, were found.",
        "Approx. ten ponds held them.",
    ]


def test_chinese_sentences() -> None:
    text = "第一句话。第二句话！第三句话？第四句话；第五句话没有句号"
    assert sentences(text) == ["第一句话。", "第二句话！", "第三句话？", "第四句话；", "第五句话没有句号"]
    assert sentences("他说：“明天见。”然后走了。") == ["他说：“明天见。”", "然后走了。"]
    assert sentences("真的吗？！是的。") == ["真的吗？！", "是的。"]
    assert sentences("中文，逗号不是句子边界，冒号：也不是") == ["中文，逗号不是句子边界，冒号：也不是"]


def test_lists_tables_and_key_value_lines() -> None:
    assert sentences("Shopping:\n- apples\n- pears\n* plums\n• figs") == [
        "Shopping:",
        "- apples",
        "- pears",
        "* plums",
        "• figs",
    ]
    assert sentences("Steps\n1. Open the box.\n2. Remove the robot.\n10) Charge it") == [
        "Steps",
        "1. Open the box.",
        "2. Remove the robot.",
        "10) Charge it",
    ]
    assert sentences("1. First item\n2. Second item") == ["1. First item", "2. Second item"]
    assert sentences("步骤\n1、打开包装\n2、取出机器") == ["步骤", "1、打开包装", "2、取出机器"]
    assert sentences("| a | b |\n| 1 | 2 |") == ["| a | b |", "| 1 | 2 |"]
    assert sentences("Name: Ann Lee\nRole: Engineer") == ["Name: Ann Lee", "Role: Engineer"]


def test_soft_wrapped_paragraphs_and_paragraph_breaks() -> None:
    wrapped = "This sentence is wrapped\nover two lines and\ncontinues here. The next one\nis short."
    assert sentences(wrapped) == [
        "This sentence is wrapped\nover two lines and\ncontinues here.",
        "The next one\nis short.",
    ]
    assert sentences("A heading\n\nBody without a final period\n\n\n  Another paragraph") == [
        "A heading",
        "Body without a final period",
        "Another paragraph",
    ]
    assert sentence_spans("") == [] and sentence_spans(" \n\n \t ") == []
    assert sentence_spans("  padded.  ") == [(2, 9)]


# Chunker ------------------------------------------------------------------------------------------

LONG_EN = " ".join(
    f"Sentence {i} explains how the {w} module handles its part of the request pipeline."
    for i, w in enumerate(["parser", "router", "cache", "auth", "logger", "queue"] * 8)
)
ZH_BODY = "".join(
    s * 1
    for s in [
        "员工每年享有十五天带薪年假，需提前两周向直属主管申请。",
        "未休完的年假可以顺延到下一年第一季度，逾期作废！",
        "病假需要二级以上医院开具的诊断证明；",
        "加班时间可以按一比一的比例调休。",
        "调休需在三个月内使用完毕，否则视为自动放弃？",
    ]
    * 6
)


def test_chunks_respect_the_token_budget(embedder) -> None:
    doc = make_doc(Section(LONG_EN))
    chunker = Chunker(embedder, chunk_tokens=64, overlap_tokens=16, min_chunk_tokens=8)
    drafts = chunker.split(doc)
    check_spans(doc, drafts)
    assert len(drafts) >= 8
    for d in drafts:
        assert measured(embedder, d) == d.tokens  # the recorded size is the tokenizer's count
        assert d.tokens <= 64
        assert d.text.endswith(".")  # whole sentences
    assert drafts[0].start == 0 and drafts[-1].end == len(doc.text)
    # every sentence is in some chunk
    covered: set[int] = set()
    for d in drafts:
        covered.update(range(d.start, d.end))
    assert all(i in covered for a, b in sentence_spans(doc.text) for i in range(a, b))


def test_consecutive_chunks_share_whole_sentences(embedder) -> None:
    doc = make_doc(Section(LONG_EN))
    drafts = Chunker(embedder, chunk_tokens=64, overlap_tokens=24, min_chunk_tokens=8).split(doc)
    starts = {a for a, _ in sentence_spans(doc.text)}
    for prev, nxt in itertools.pairwise(drafts):
        assert nxt.start in starts
        assert prev.start < nxt.start < prev.end  # overlap, and progress
        shared = doc.text[nxt.start : prev.end]
        assert embedder.token_lengths([shared])[0] <= 24
    no_overlap = Chunker(embedder, chunk_tokens=64, overlap_tokens=0, min_chunk_tokens=8).split(doc)
    assert all(b.start >= a.end for a, b in itertools.pairwise(no_overlap))
    assert len(no_overlap) < len(drafts)


def test_chinese_chunks_end_at_sentence_ends(embedder) -> None:
    doc = make_doc(Section(ZH_BODY))
    drafts = Chunker(embedder, chunk_tokens=80, overlap_tokens=20, min_chunk_tokens=8).split(doc)
    check_spans(doc, drafts)
    assert len(drafts) >= 5
    for d in drafts:
        assert d.text[-1] in "。！？；"
        assert d.start == 0 or doc.text[d.start - 1] in "。！？；"
        assert d.tokens <= 80


def test_sections_are_not_crossed_and_keep_page_and_headings(embedder) -> None:
    body = "The {0} chapter covers budgets, hiring plans, office moves and quarterly targets in detail."
    doc = make_doc(
        Section(" ".join(body.format("first") for _ in range(3)), page=1, headings=("Report", "One")),
        Section(" ".join(body.format("second") for _ in range(3)), page=2, headings=("Report", "Two")),
    )
    drafts = Chunker(embedder, chunk_tokens=200, overlap_tokens=16, min_chunk_tokens=8).split(doc)
    check_spans(doc, drafts)
    assert [(d.page, d.section) for d in drafts] == [(1, "Report > One"), (2, "Report > Two")]
    assert "second" not in drafts[0].text and "first" not in drafts[1].text


def test_tiny_fragments_are_merged(embedder) -> None:
    doc = make_doc(
        Section("Intro", page=2, headings=("Intro",)),
        Section(LONG_EN[:400], page=2, headings=("Details",)),
        Section("See also.", page=2, headings=("End",)),
    )
    drafts = Chunker(embedder, chunk_tokens=200, overlap_tokens=16, min_chunk_tokens=12).split(doc)
    check_spans(doc, drafts)
    assert len(drafts) == 1
    (only,) = drafts
    assert only.start == 0 and only.end == len(doc.text)
    assert only.page == 2
    assert only.headings == ("Details",)  # the heading of the largest part
    assert only.tokens == sum(embedder.token_lengths([s.text for s in doc.sections]))


def test_tiny_fragments_are_not_merged_across_pages(embedder) -> None:
    """A citation names one page: text from page 2 must not be cited as page 1."""
    doc = make_doc(
        Section(LONG_EN[:400], page=1, headings=("Details",)),
        Section("See also.", page=2, headings=("End",)),
    )
    drafts = Chunker(embedder, chunk_tokens=200, overlap_tokens=16, min_chunk_tokens=12).split(doc)
    check_spans(doc, drafts)
    assert [d.page for d in drafts] == [1, 2]
    assert drafts[1].text == "See also."


def test_a_tiny_fragment_joins_a_full_neighbour_within_the_tolerance(embedder) -> None:
    full = " ".join(LONG_EN.split(". ")[:4]) + "."
    size = embedder.token_lengths([full])[0]
    doc = make_doc(
        Section(full, headings=("A",)), Section("Tiny.", headings=("B",)), Section(full, headings=("C",))
    )
    drafts = Chunker(embedder, chunk_tokens=size, overlap_tokens=4, min_chunk_tokens=8).split(doc)
    check_spans(doc, drafts)
    assert [d.section for d in drafts] == ["A", "C"]
    assert (
        drafts[0].text.endswith("Tiny.") and drafts[0].tokens <= size + 8
    )  # chunk_tokens + min_chunk_tokens


def test_a_sentence_longer_than_a_chunk_is_cut(embedder) -> None:
    words = " ".join(f"word{i}" for i in range(200))  # one "sentence" with no punctuation
    doc = make_doc(Section(f"Short intro sentence here. {words}"))
    drafts = Chunker(embedder, chunk_tokens=64, overlap_tokens=16, min_chunk_tokens=4).split(doc)
    check_spans(doc, drafts)
    assert drafts[-1].end == len(doc.text)
    cut = [d for d in drafts if "word" in d.text]
    assert len(cut) >= 4
    for d in cut:
        assert d.tokens <= 64
        assert abs(measured(embedder, d) - d.tokens) <= 1
    for a, b in itertools.pairwise(cut):
        assert b.start < a.end  # cut windows overlap too
    long_zh = "这是一个没有任何标点符号的非常长的中文句子" * 12
    zh = Chunker(embedder, chunk_tokens=50, overlap_tokens=10, min_chunk_tokens=4).split(
        make_doc(Section(long_zh))
    )
    assert len(zh) >= 5 and all(d.tokens <= 50 for d in zh)
    assert zh[0].start == 0 and zh[-1].end == len(long_zh)


def test_a_file_without_sentence_breaks_is_counted_and_cut_in_segments(embedder) -> None:
    # 700,000 characters in one "sentence": longer than the tokenizer's segment (20,000) and the
    # cutter's (100,000), so both work piecewise; the chunks still tile the text
    text = " ".join(f"w{i % 997}x{i}" for i in range(70_000))
    assert len(text) > 600_000
    whole = embedder.token_lengths([text])[0]
    spans = embedder.token_spans(text)
    assert len(spans) == whole
    assert all(a < b <= c for (a, b), (c, _) in itertools.pairwise(spans))
    assert spans[0][0] == 0 and spans[-1][1] == len(text)
    doc = make_doc(Section(text))
    drafts = Chunker(embedder, chunk_tokens=128, overlap_tokens=24, min_chunk_tokens=24).split(doc)
    check_spans(doc, drafts)
    assert drafts[0].start == 0 and drafts[-1].end == len(text)
    assert all(d.tokens <= 128 for d in drafts)
    for a, b in itertools.pairwise(drafts):
        assert b.start <= a.end or not text[a.end : b.start].strip()  # no text is lost between chunks
    assert sum(d.tokens for d in drafts) >= whole


def test_edge_cases(embedder) -> None:
    assert Chunker(embedder).split(make_doc()) == []
    one = Chunker(embedder).split(make_doc(Section("Just one line")))
    assert [(d.text, d.start, d.end) for d in one] == [("Just one line", 0, 13)]
    with pytest.raises(ValueError):
        Chunker(embedder, chunk_tokens=32, overlap_tokens=32)


def test_circa_does_not_end_a_sentence() -> None:
    text = "Osric of Tarrow ( c. 1187 ), was an English chronicler. He lectured in Velmora."
    assert [text[a:b] for a, b in sentence_spans(text)] == [
        "Osric of Tarrow ( c. 1187 ), was an English chronicler.",
        "He lectured in Velmora.",
    ]
