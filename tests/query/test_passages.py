"""Passages, not snippets: the best chunks grow into whole-sentence passages around them, within their
section and page, on a real index (documents ingested for real with small chunks)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from rag.query.passages import PassageBuilder, merge_chunks, sentence_window
from rag_core.types import ScoredChunk
from tests.query._support import own_components
from tests.query.records import make_chunk, scored
from vectorstore.records import CollectionInfo

KETTLE = """# Kettle guide

## Brewing modes

The kettle has two brewing modes. Green mode heats the water to eighty degrees and holds it for ten
minutes. Black mode boils the water and keeps it at ninety-five degrees. Switch modes with the leaf
button on the handle. The display shows the chosen mode in blue. A second press returns to the first
mode.

## Cleaning

Descale the kettle every month with white vinegar. Rinse it three times before the next brew.
"""


@pytest.fixture(scope="module")
def kettle(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[PassageBuilder, CollectionInfo]]:
    root = tmp_path_factory.mktemp("passages")
    docs = root / "docs"
    docs.mkdir()
    (docs / "kettle.md").write_text(KETTLE, encoding="utf-8")
    components = own_components(
        root / "data", chunking={"chunk_tokens": 20, "overlap_tokens": 0, "min_chunk_tokens": 4}
    )
    components.ingest_pipeline().run([docs], "kb")
    info = components.index.collection("kb")
    builder = PassageBuilder(components.catalog, passage_chars=400, context_chars=4000)
    yield builder, info
    components.catalog.close()


def chunks_of(builder: PassageBuilder, info: CollectionInfo) -> list[ScoredChunk]:
    (doc,) = builder.catalog.documents(info.name)
    return scored(*builder.catalog.chunks_of(info.name, doc.doc_id))


def find(hits: list[ScoredChunk], words: str) -> ScoredChunk:
    return next(h for h in hits if words in h.chunk.text)


def flat(text: str) -> str:
    return " ".join(text.split())


def test_a_chunk_grows_into_the_sentences_around_it_within_its_section(
    kettle: tuple[PassageBuilder, CollectionInfo],
) -> None:
    builder, info = kettle
    hits = chunks_of(builder, info)
    assert len(hits) >= 4  # the guide is cut into several small chunks
    seed = find(hits, "Green mode")
    assert "Black mode boils" not in seed.chunk.text
    (passage,) = builder.build(info, [seed], top_k=5)
    text = flat(passage.text)
    assert flat(seed.chunk.text) in text
    assert "Black mode boils the water" in text  # the answer's second half, in the next chunk
    assert len(passage.text) <= 400 < len(flat(KETTLE))
    assert "Descale" not in text  # another section
    assert passage.section == seed.chunk.section and len(passage.chunk_ids) > 1
    assert passage.text.rstrip()[-1] in ".!?" and passage.text[0].isupper()  # whole sentences


def test_top_k_and_the_context_size_bound_the_passages(kettle: tuple[PassageBuilder, CollectionInfo]) -> None:
    builder, info = kettle
    hits = chunks_of(builder, info)
    assert len(builder.build(info, hits, top_k=1)) == 1
    small = PassageBuilder(builder.catalog, passage_chars=400, context_chars=300)
    passages = small.build(info, hits, top_k=5)
    assert passages and sum(len(p.text) for p in passages) <= 300


def test_a_chunk_that_a_chosen_passage_holds_adds_nothing(
    kettle: tuple[PassageBuilder, CollectionInfo],
) -> None:
    builder, info = kettle
    hits = chunks_of(builder, info)
    seed, inside, other = find(hits, "Green mode"), find(hits, "Black mode"), find(hits, "Descale")
    passages = builder.build(info, [seed, inside, other], top_k=2)
    assert len(passages) == 2  # the second slot goes to the other section, not to a repeat
    assert "Descale" in passages[1].text
    texts = [flat(p.text) for p in passages]
    assert sum("Black mode boils" in t for t in texts) == 1


def test_sentence_window_grows_after_then_before_and_keeps_the_core() -> None:
    text = "One ant. Two bees. Three cats. Four dogs. Five eels."
    core = (text.index("Three"), text.index("Three") + len("Three cats."))
    assert text[slice(*sentence_window(text, core, 12))] == "Three cats."
    assert text[slice(*sentence_window(text, core, 22))] == "Three cats. Four dogs."
    assert text[slice(*sentence_window(text, core, 32))] == "Two bees. Three cats. Four dogs."
    assert text[slice(*sentence_window(text, core, 100))] == text
    assert text[slice(*sentence_window(text, core, 3))] == "Three cats."  # never less than the core


DOC = (
    "The plant opened in 1998. It assembles bicycle frames for three brands. "
    "Sprockets arrive weekly from Porto. Rejected sprockets go back within five days."
)


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
    assert flat(merged.text) == "The plant opened in 1998. Sprockets arrive weekly."
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


def test_merged_chunks_keep_document_offsets_across_a_gap() -> None:
    first = make_chunk("plant", "The plant opened in 1998.", index=0, start=0)
    second = make_chunk("plant", "Sprockets arrive weekly.", index=1, start=first.end + 2)
    (passage,) = merge_chunks(scored(second, first))
    assert passage.text[second.start - passage.start :] == second.text
    assert flat(passage.text) == "The plant opened in 1998. Sprockets arrive weekly."


def test_retrieval_only_returns_whole_passages(tmp_path: Path) -> None:
    from rag.query.request import QueryRequest

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "kettle.md").write_text(KETTLE, encoding="utf-8")
    components = own_components(
        tmp_path / "data", chunking={"chunk_tokens": 20, "overlap_tokens": 0, "min_chunk_tokens": 4}
    )
    components.ingest_pipeline().run([docs], "kb")
    request = QueryRequest("What do the two brewing modes of the kettle do?", "kb", retrieval_only=True)
    response = components.query_pipeline().run(request)
    best = flat(response.context[0].text)
    assert len(response.context[0].chunk_ids) > 1
    assert "Green mode heats the water" in best and "Black mode boils the water" in best
    components.catalog.close()
