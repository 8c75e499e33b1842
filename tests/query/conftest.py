"""Fixtures for the query-stage tests: real parts only.

- `corpus`: a fresh collection in the test's own data dir (embedded Chroma + catalog with its BM25 index),
  filled with documents whose chunks and summaries are embedded by the bundled embedder.
- `e2e`: components for the end-to-end tests, built once per session in their own data dir, with the
  sample documents ingested into the collection `samples` by the real ingest pipeline; the LLM is the
  bundled SmolLM2 (greedy, seeded, so an answer is reproducible).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from rag.components import Components
from rag_core.settings import load_settings
from rag_models.embeddings import SentenceTransformerEmbedder
from tests.helpers import shared_embedder
from tests.query._support import SAMPLES, SAMPLES_COLLECTION, Corpus, open_corpus, own_components


@pytest.fixture(scope="session")
def embedder() -> SentenceTransformerEmbedder:
    return shared_embedder()


@pytest.fixture
def components(isolated_env: Path) -> Iterator[Components]:
    """Components from this test's environment (its own data dir), sharing the loaded embedder."""
    components = Components(load_settings(), embedder=shared_embedder())
    yield components
    components.catalog.close()


@pytest.fixture
def corpus(components: Components) -> Corpus:
    """An empty collection in this test's own data dir."""
    return open_corpus(components)


@pytest.fixture(scope="session")
def e2e(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Components]:
    """Components with the samples ingested into `samples`; the bundled LLM, greedy and seeded."""
    root = tmp_path_factory.mktemp("query-e2e")
    components = own_components(root / "data", llm={"temperature": 0.0, "seed": 0})
    report = components.ingest_pipeline().run([SAMPLES], SAMPLES_COLLECTION)
    assert report.ok and report.documents == 4, report
    yield components
    components.catalog.close()
