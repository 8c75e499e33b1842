"""Test isolation: every test gets its own data dir and a clean RAG_* environment."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    for name in list(os.environ):
        if name.startswith("RAG_"):
            monkeypatch.delenv(name)
    data_dir = tmp_path / "rag-data"
    monkeypatch.setenv("RAG_DATA_DIR", str(data_dir))
    monkeypatch.chdir(tmp_path)
    yield data_dir
