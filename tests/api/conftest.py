"""One real app for the API tests: embedded Chroma in a temp data dir, the bundled embedder and SmolLM2.

Models load once per session; apps with other settings (keys, limits) share the same components."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from rag_core.settings import Settings
from tests.api._apitools import SAMPLES, RecordingComponents
from tests.helpers import shared_embedder


@pytest.fixture(scope="session")
def api_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    root = tmp_path_factory.mktemp("api")
    with pytest.MonkeyPatch.context() as mp:
        for name in list(os.environ):
            if name.startswith("RAG_"):
                mp.delenv(name)
        mp.chdir(root)
        return Settings(data_dir=root / "data")


@pytest.fixture(scope="session")
def components(api_settings: Settings) -> RecordingComponents:
    """The shared components, with the sample documents ingested into the default collection."""
    components = RecordingComponents(api_settings, embedder=shared_embedder())
    report = components.ingest_pipeline().run([SAMPLES], api_settings.collection)
    assert report.ok and report.documents >= 4
    return components


@pytest.fixture(scope="session")
def client(api_settings: Settings, components: RecordingComponents) -> Iterator[TestClient]:
    with TestClient(create_app(api_settings, components)) as test_client:
        yield test_client


@pytest.fixture()
def recorder(components: RecordingComponents) -> Iterator[RecordingComponents]:
    components.requests.clear()
    components.cancels.clear()
    components.deltas = 0
    yield components
    components.delay = 0.0
