"""Document summaries: the extractive strategy (no LLM) and the LLM one with the bundled SmolLM2."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ingest.chunking import Chunker
from ingest.summaries import ExtractiveSummarizer, LLMSummarizer
from rag.components import Components
from rag_core.sentences import sentence_spans
from rag_core.settings import load_settings
from rag_core.types import LoadedDocument, Section
from rag_models.embeddings import SentenceTransformerEmbedder
from rag_models.llm.base import LLM
from tests.helpers import CountingLLM, shared_embedder


@pytest.fixture(scope="module")
def embedder() -> SentenceTransformerEmbedder:
    return shared_embedder()


def chunked(embedder, doc: LoadedDocument, chunk_tokens: int = 120):
    return Chunker(embedder, chunk_tokens=chunk_tokens, overlap_tokens=16, min_chunk_tokens=8).split(doc)


TOPICS = ["pricing", "shipping", "returns", "warranty", "support", "privacy"]
LONG_DOC = LoadedDocument(
    title="Customer Terms",
    file_type="md",
    sections=[
        Section(
            " ".join(
                f"The {topic} rules, clause {i}, say that shop customers are treated fairly in case {i}."
                for i in range(6)
            ),
            headings=("Customer Terms", topic.title()),
        )
        for topic in TOPICS
    ],
)
ZH_DOC = LoadedDocument(
    title="员工手册",
    file_type="txt",
    sections=[
        Section(
            "年假\n\n" + "员工每年享有十五天带薪年假，需提前两周申请。" * 8, headings=("员工手册", "年假")
        ),
        Section(
            "病假\n\n" + "病假需要医院开具的诊断证明，并在三天内提交。" * 8, headings=("员工手册", "病假")
        ),
    ],
)


@pytest.mark.parametrize("budget", [48, 96, 160])
def test_extractive_summary_fits_the_budget_in_document_order(embedder, budget: int) -> None:
    summary = ExtractiveSummarizer(embedder, max_tokens=budget).summarize(
        LONG_DOC, chunked(embedder, LONG_DOC)
    )
    assert embedder.token_lengths([summary])[0] <= budget
    title, outline, body = summary.split("\n")
    assert title == "Customer Terms"
    assert outline == "; ".join(t.title() for t in TOPICS)  # the document's outline
    text = LONG_DOC.text
    doc_sentences = [text[a:b] for a, b in sentence_spans(text)]
    picked = [s for s in doc_sentences if s in body]
    assert picked and " ".join(picked) == body  # whole sentences of the document, in its order
    assert picked[0] == doc_sentences[0]  # the lead sentence comes first


def test_extractive_summary_of_chinese_text(embedder) -> None:
    summary = ExtractiveSummarizer(embedder, max_tokens=80).summarize(ZH_DOC, chunked(embedder, ZH_DOC))
    assert embedder.token_lengths([summary])[0] <= 80
    lines = summary.split("\n")
    assert lines[0] == "员工手册" and lines[1] == "年假、病假"
    assert "带薪年假" in lines[2]


def test_a_short_document_is_its_own_summary(embedder) -> None:
    doc = LoadedDocument(
        title="Wi-Fi",
        file_type="txt",
        sections=[Section("The guest network is called Lobby. The password changes every Monday.")],
    )
    summary = ExtractiveSummarizer(embedder, max_tokens=160).summarize(doc, chunked(embedder, doc))
    assert summary == "Wi-Fi\nThe guest network is called Lobby. The password changes every Monday."
    with_headings = LoadedDocument(
        title="Guide", file_type="md", sections=[Section("Setup\n\nPlug it in.", headings=("Guide", "Setup"))]
    )
    assert (
        ExtractiveSummarizer(embedder).summarize(with_headings, chunked(embedder, with_headings))
        == "Guide\nSetup\nSetup\n\nPlug it in."
    )


def test_extractive_summary_with_a_long_outline_stays_within_budget(embedder) -> None:
    heading = "Heading {} about the quarterly revenue recognition policy"
    doc = LoadedDocument(
        title="Annual Financial Statements Handbook",
        file_type="md",
        sections=[
            Section(
                f"{heading.format(i)}\n\nBody sentence {i} of the section.",
                headings=("Annual Financial Statements Handbook", heading.format(i)),
            )
            for i in range(12)
        ],
    )
    summary = ExtractiveSummarizer(embedder, max_tokens=64).summarize(doc, chunked(embedder, doc))
    assert embedder.token_lengths([summary])[0] <= 64


# LLM summaries with the bundled SmolLM2 (llama.cpp in-process) -------------------------------------


@pytest.fixture(scope="module")
def smollm2() -> Iterator[LLM]:
    llm = Components(load_settings()).llm()
    llm.warm_up()
    yield llm


@pytest.mark.slow
def test_llm_summary_of_a_short_document(smollm2: LLM, embedder) -> None:
    doc = LoadedDocument(
        title="Robot Vacuum Battery",
        file_type="txt",
        sections=[
            Section(
                "The Dustbuster robot vacuum runs for ninety minutes on a full charge. Charging takes four "
                "hours. The battery should be replaced after about five hundred cycles."
            )
        ],
    )
    llm = CountingLLM(smollm2)
    summary = LLMSummarizer(llm, max_new_tokens=48).summarize(doc, chunked(embedder, doc))
    assert len(llm.prompts) == 1
    assert "ninety minutes" in llm.prompts[0] and "Robot Vacuum Battery" in llm.prompts[0]
    title, _, body = summary.partition("\n")
    assert title == "Robot Vacuum Battery"
    assert body.strip() and body == body.strip()


@pytest.mark.slow
def test_llm_summary_of_a_long_document_is_map_reduce(smollm2: LLM, embedder) -> None:
    doc = LoadedDocument(title=LONG_DOC.title, file_type="md", sections=LONG_DOC.sections[:3])
    drafts = chunked(embedder, doc, chunk_tokens=64)
    llm = CountingLLM(smollm2)
    summary = LLMSummarizer(llm, part_tokens=150, max_new_tokens=24).summarize(doc, drafts)
    *parts, combine = llm.prompts
    assert len(parts) >= 2
    # every chunk is summarised in exactly one part, in document order
    for d in drafts:
        assert sum(d.text in p for p in parts) == 1
    order = [next(i for i, p in enumerate(parts) if d.text in p) for d in drafts]
    assert order == sorted(order)
    assert all(p.startswith("Title: Customer Terms") and p.endswith("Summary:") for p in parts)
    assert "Combine them" in combine and combine.count("\n- ") == len(parts)
    assert summary.startswith("Customer Terms\n") and summary.split("\n", 1)[1].strip()


@pytest.mark.slow
def test_ingest_with_llm_summaries_records_the_strategy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RAG_SUMMARY__STRATEGY", "llm")
    components = Components(load_settings())  # builds its own SmolLM2, as `rag ingest` does
    components.embedder = shared_embedder()  # type: ignore[assignment]
    (tmp_path / "note.txt").write_text(
        "The cafeteria opens at seven. Breakfast is free on Fridays.", encoding="utf-8"
    )
    report = components.ingest_pipeline().run([tmp_path / "note.txt"], "notes")
    assert report.ok and report.documents == 1
    (row,) = components.catalog.documents("notes")
    assert row.summary_strategy == "llm" and row.summary.startswith("note\n")
    info = components.index.collection("notes")
    hit = components.index.search_summaries(info, shared_embedder().embed_query("breakfast"), k=1)[0]
    assert hit.summary.strategy == "llm" and hit.summary.text == row.summary
