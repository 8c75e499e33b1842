"""Test isolation: every test gets its own data dir and a clean RAG_* environment.

Tests run on the bundled English all-MiniLM-L6-v2 (about 2x faster on two cores than the default); a
test marked `default_embedder` runs on the embedded default, the bundled multilingual-e5-small, whose
converted model is shared by the whole session (RAG_EMBEDDING__MODEL_DIR)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from rag_models.bundled import BUNDLED_MINILM
from tests.postgres import PostgresServer, postgres_bin

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")


@pytest.fixture(scope="session")
def shared_models_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("models")


@pytest.fixture(autouse=True)
def isolated_env(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest, shared_models_dir: Path
) -> Iterator[Path]:
    for name in list(os.environ):
        if name.startswith("RAG_"):
            monkeypatch.delenv(name)
    data_dir = tmp_path / "rag-data"
    monkeypatch.setenv("RAG_DATA_DIR", str(data_dir))
    monkeypatch.setenv("RAG_EMBEDDING__MODEL_DIR", str(shared_models_dir))
    if request.node.get_closest_marker("default_embedder") is None:
        monkeypatch.setenv("RAG_EMBEDDING__MODEL", BUNDLED_MINILM)
    monkeypatch.chdir(tmp_path)
    yield data_dir


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """A real PostgreSQL server for the session (tests take a fresh database each: `new_database`)."""
    if postgres_bin() is None:
        pytest.skip(
            "PostgreSQL is not installed (scripts/install.sh installs it: apt-get install -y postgresql)"
        )
    server = PostgresServer().start()
    try:
        yield server
    finally:
        server.remove()
