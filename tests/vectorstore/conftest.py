"""Vector-store fixtures: the index in every mode (embedded Chroma, a real `chroma run` server)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from rag_models.embeddings import SentenceTransformerEmbedder
from tests.helpers import shared_embedder
from tests.servers import ChromaServer
from vectorstore.catalog import Catalog
from vectorstore.chroma_store import ChromaStore
from vectorstore.index import TwoLevelIndex


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Chroma server (`chroma run`) on a free port for the session; yields its URL."""
    server = ChromaServer(tmp_path_factory.mktemp("chroma-server")).start()
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture(scope="session")
def embedder() -> SentenceTransformerEmbedder:
    return shared_embedder()


@pytest.fixture(
    params=[
        "embedded",
        pytest.param("server", marks=pytest.mark.integration),
        pytest.param("postgres", marks=pytest.mark.integration),
    ]
)
def index(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[TwoLevelIndex]:
    """A fresh two-level index: its own catalog (SQLite, or a new database on a real PostgreSQL server),
    and Chroma embedded in a temp dir or on a real server. Collections created by the test are dropped
    from Chroma afterwards (the server is shared)."""
    where: Path | str = tmp_path / "catalog.sqlite3"
    if request.param == "embedded":
        chroma = ChromaStore(path=tmp_path / "chroma")
    else:
        chroma = ChromaStore(url=request.getfixturevalue("chroma_server"))
    if request.param == "postgres":
        where = request.getfixturevalue("postgres").new_database()
    index = TwoLevelIndex(Catalog(where), chroma)
    yield index
    for info in index.catalog.collections():
        for key in {info.dense_key, info.rebuilding} - {""}:
            chroma.drop(key)
    index.catalog.close()
