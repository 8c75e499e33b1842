"""`rag.langchain`: our retrieval as a LangChain retriever, in real LCEL chains, over documents of our own
ingested with the real pipeline and the bundled embedder (issue 20)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from fpdf import FPDF
from langchain_core.embeddings import Embeddings
from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables import RunnableLambda, RunnablePassthrough

from rag.components import Components
from rag.langchain import RagRetriever, chat_model, embeddings, format_docs
from rag.query.request import Filters, QueryRequest
from rag_core.errors import ConfigError
from rag_core.settings import Settings
from rag_models.llm.base import GenerationOptions
from tests.helpers import REPO
from tests.query._support import own_components

pytestmark = pytest.mark.slow

HANDBOOK = """# Larkspur Cooperative member handbook

## Bicycle workshop

Members may use the bicycle workshop on Tuesdays and Saturdays from 9:00 to 17:00.
Each member may borrow the truing stand for at most two hours per visit.

## Seed library

The seed library lends up to five packets of seeds per season to each member.
Members return seeds from their harvest by the end of October so the library can grow.

## Quiet hours

Quiet hours in the shared kitchen run from 22:00 to 7:00 every day.
"""

BAKERY = """Harbour Street Bakery opening notes

The sourdough starter is fed twice a day, at six in the morning and at four in the afternoon.
Rye loaves bake for fifty-five minutes at 230 degrees Celsius.
The bakery closes on public holidays and on the first Monday of each month for deep cleaning.
"""

MANUAL_PAGES = [
    "Kestrel K2 weather station manual. Unpack the sensor mast and the display unit. "
    "Mount the mast at least two metres above the ground, away from walls and trees.",
    "Battery. The Kestrel K2 display runs for fourteen months on two AA lithium cells. "
    "Replace both cells at the same time and reset the rain gauge afterwards.",
]

COLLECTION = "handbook"
QUESTION = "How many packets of seeds can a member borrow from the seed library per season?"
GREEDY = GenerationOptions(temperature=0.0, max_new_tokens=48, seed=3)


def write_pdf(path: Path, pages: list[str]) -> None:
    pdf = FPDF()
    pdf.set_font("helvetica", size=12)
    for text in pages:
        pdf.add_page()
        pdf.multi_cell(0, 8, text)
    pdf.output(str(path))


@pytest.fixture(scope="module")
def kb(tmp_path_factory: pytest.TempPathFactory) -> Components:
    """Our own documents (Markdown with sections, plain text, a two-page PDF) ingested into `kb`."""
    root = tmp_path_factory.mktemp("langchain")
    docs = root / "docs"
    docs.mkdir()
    (docs / "handbook.md").write_text(HANDBOOK, encoding="utf-8")
    (docs / "bakery.txt").write_text(BAKERY, encoding="utf-8")
    write_pdf(docs / "kestrel-k2.pdf", MANUAL_PAGES)
    components = own_components(root / "data")
    report = components.ingest_pipeline().run([docs], COLLECTION)
    assert report.ok and report.documents == 3
    return components


def test_invoke_returns_the_passage_first_with_its_metadata(kb: Components) -> None:
    retriever = RagRetriever(components=kb, collection=COLLECTION)
    assert isinstance(retriever, BaseRetriever)
    docs = retriever.invoke(QUESTION)
    assert docs and len(docs) <= kb.settings.retrieval.top_k
    best = docs[0]
    assert "up to five packets of seeds per season" in best.page_content
    meta = best.metadata
    assert {"source", "title", "page", "section", "score", "doc_id"} <= set(meta)
    assert meta["source"].endswith("handbook.md") and meta["section"].endswith("Seed library")
    assert meta["title"] == "Larkspur Cooperative member handbook" and meta["page"] is None
    assert meta["doc_id"] and isinstance(meta["score"], float) and meta["rank"] == 1
    assert [d.metadata["rank"] for d in docs] == list(range(1, len(docs) + 1))
    # the passages whole, as `retrieval_only` returns them
    response = kb.query_pipeline().run(QueryRequest(QUESTION, COLLECTION, retrieval_only=True))
    assert [d.page_content for d in docs] == [e.text for e in response.context]
    assert [d.metadata["doc_id"] for d in docs] == [e.doc_id for e in response.context]


def test_pdf_passages_carry_their_page(kb: Components) -> None:
    docs = RagRetriever(components=kb, collection=COLLECTION).invoke(
        "How long does the K2 display run on its cells?"
    )
    best = docs[0]
    assert "fourteen months" in best.page_content
    assert best.metadata["source"].endswith("kestrel-k2.pdf") and best.metadata["page"] == 2


def test_top_k_and_filters(kb: Components) -> None:
    first = RagRetriever(components=kb, collection=COLLECTION, top_k=1)
    one = first.invoke("When is the sourdough starter fed?")
    assert len(one) == 1 and "six in the morning" in one[0].page_content
    only_pdf = RagRetriever(components=kb, collection=COLLECTION, filters=Filters(file_types=("pdf",)))
    docs = only_pdf.invoke(QUESTION)
    assert docs and all(d.metadata["source"].endswith(".pdf") for d in docs)


def test_ainvoke_and_batch(kb: Components) -> None:
    retriever = RagRetriever(components=kb, collection=COLLECTION)
    expected = retriever.invoke(QUESTION)
    assert asyncio.run(retriever.ainvoke(QUESTION)) == expected
    batched = retriever.batch([QUESTION, "When is the bakery closed?"])
    assert batched[0] == expected and "public holidays" in batched[1][0].page_content


PROMPT = ChatPromptTemplate.from_messages(
    [
        ("system", "Answer the question from the sources, in one short sentence."),
        ("human", "Sources:\n{context}\n\nQuestion: {question}"),
    ]
)


def test_lcel_chain_with_the_bundled_chat_model(kb: Components) -> None:
    retriever = RagRetriever(components=kb, collection=COLLECTION)
    prompts: list[Any] = []

    def record(value: Any) -> Any:
        prompts.append(value)
        return value

    chain = (
        {"context": retriever | format_docs, "question": RunnablePassthrough()}
        | PROMPT
        | RunnableLambda(record)
        | chat_model(components=kb, options=GREEDY)
        | StrOutputParser()
    )
    answer = chain.invoke(QUESTION)
    assert isinstance(answer, str) and "five packets" in answer  # the bundled 135M model copies it
    messages = prompts[0].to_messages()
    human = messages[-1].content
    assert human.startswith("Sources:\n[1] Larkspur Cooperative member handbook (")
    assert "Seed library)\n" in human and "up to five packets of seeds per season" in human
    assert human.endswith(f"Question: {QUESTION}")
    streamed = list(chain.stream(QUESTION))
    assert len(streamed) > 1 and "".join(streamed).strip()


def test_built_from_the_environment_like_the_cli(kb: Components, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAG_DATA_DIR", str(kb.settings.data_dir))
    monkeypatch.setenv("RAG_COLLECTION", COLLECTION)
    retriever = RagRetriever()
    assert retriever.settings is not None and retriever.settings.data_dir == kb.settings.data_dir
    docs = retriever.invoke(QUESTION)
    assert "up to five packets of seeds per season" in docs[0].page_content


def test_a_misspelled_setting_fails_at_construction(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAG_RETRIEVAL__TOPK", "3")
    with pytest.raises(ConfigError) as error:
        RagRetriever(collection=COLLECTION)
    assert "did you mean RAG_RETRIEVAL__TOP_K?" in error.value.message


def test_chat_model_and_embeddings_from_settings(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    model = chat_model(settings)
    assert isinstance(model, BaseChatModel) and model._llm_type == "rag-llamacpp"
    vectors = embeddings(settings)
    assert isinstance(vectors, Embeddings)
    query = vectors.embed_query("seed library")
    assert len(query) == 384 and abs(sum(v * v for v in query) - 1) < 1e-3


def docs_example() -> str:
    """The LCEL example of docs/langchain.md, as a user copies it."""
    text = (REPO / "docs" / "langchain.md").read_text(encoding="utf-8")
    section = text[text.index("## In an LCEL chain") :]
    return section[section.index("```python\n") + len("```python\n") : section.index("```\n", 10)]


def test_the_docs_example_runs_as_written(
    kb: Components, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("RAG_DATA_DIR", str(kb.settings.data_dir))
    namespace: dict[str, Any] = {}
    exec(compile(docs_example(), "docs/langchain.md", "exec"), namespace)
    assert capsys.readouterr().out.strip()  # the streamed answer
    assert "five packets" in namespace["chain"].invoke(QUESTION)
