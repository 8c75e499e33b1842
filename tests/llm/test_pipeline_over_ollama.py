"""The query pipeline with the Ollama backend: the real client, against a local server speaking the Ollama
API (no Ollama binary installs here), answering as an instruction-tuned Llama-3 does. The samples are
ingested by the real pipeline into embedded Chroma; the citation check and refusal see the model's text."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from rag.components import Components
from rag.query.answer import REFUSAL
from rag.query.request import QueryRequest
from tests.query._support import SAMPLES, SAMPLES_COLLECTION, own_components

QUESTION = "How long does the NR-7 run on one charge?"


@pytest.fixture
def over_ollama(tmp_path: Path, ollama_server: Any) -> Iterator[Components]:
    llm = {"backend": "ollama", "model": "llama3", "base_url": ollama_server.url}
    components = own_components(tmp_path / "data", llm=llm)
    assert components.ingest_pipeline().run([SAMPLES], SAMPLES_COLLECTION).ok
    yield components
    components.catalog.close()


@pytest.mark.parametrize(
    "reply",
    [
        "According to Source 1, the NR-7 runs for eleven hours on one charge.",
        "The NR-7 runs for 11 hours on one charge [^1].",
    ],
)
def test_a_llama3_style_answer_keeps_its_citation(
    over_ollama: Components, ollama_server: Any, reply: str
) -> None:
    ollama_server.state.reply = reply
    response = over_ollama.query_pipeline().run(QueryRequest(QUESTION, SAMPLES_COLLECTION))
    assert not response.refused and not response.quoted
    assert "one charge" in response.answer and "[1]" in response.answer and "^" not in response.answer
    assert [Path(c.source).name for c in response.citations] == ["robot-faq.html"]
    assert "11 hours" in response.citations[0].text
    assert "/api/chat" in ollama_server.paths()  # the answer came from the model over the Ollama API


def test_a_llama3_refusal_is_a_refusal(over_ollama: Components, ollama_server: Any) -> None:
    ollama_server.state.reply = "Unfortunately, the provided sources do not mention how long the NR-7 runs."
    response = over_ollama.query_pipeline().run(QueryRequest(QUESTION, SAMPLES_COLLECTION))
    assert response.refused and response.answer == REFUSAL["en"] and not response.citations
