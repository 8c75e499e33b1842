"""Vector-store fixtures: the index in every mode (embedded Chroma, a real `chroma run` server)."""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from rag.embeddings import SentenceTransformerEmbedder
from tests.helpers import shared_embedder
from vectorstore.catalog import Catalog
from vectorstore.chroma_store import ChromaStore
from vectorstore.index import TwoLevelIndex

SERVER_START_S = 90


def _chroma_binary() -> str | None:
    local = Path(sys.executable).parent / "chroma"
    return str(local) if local.exists() else shutil.which("chroma")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Chroma server (`chroma run`) on a free port for the session; yields its URL."""
    binary = _chroma_binary()
    if binary is None:
        pytest.skip("the `chroma` CLI is not installed (it comes with the chromadb package)")
    root = tmp_path_factory.mktemp("chroma-server")
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = root / "server.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [binary, "run", "--path", str(root / "data"), "--host", "127.0.0.1", "--port", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + SERVER_START_S
        while True:
            if proc.poll() is not None:
                pytest.fail(f"chroma run exited with {proc.returncode}: {log_path.read_text()[-2000:]}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{url}/api/v2/heartbeat", timeout=2).status_code == 200:
                    break
            if time.monotonic() > deadline:
                pytest.fail(
                    f"chroma run did not answer within {SERVER_START_S} s: {log_path.read_text()[-2000:]}"
                )
            time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="session")
def embedder() -> SentenceTransformerEmbedder:
    return shared_embedder()


@pytest.fixture(params=["embedded", pytest.param("server", marks=pytest.mark.integration)])
def index(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[TwoLevelIndex]:
    """A fresh two-level index: its own catalog, and Chroma embedded in a temp dir or on the server.
    Collections created by the test are dropped from Chroma afterwards (the server is shared)."""
    if request.param == "server":
        chroma = ChromaStore(url=request.getfixturevalue("chroma_server"))
    else:
        chroma = ChromaStore(path=tmp_path / "chroma")
    index = TwoLevelIndex(Catalog(tmp_path / "catalog.sqlite3"), chroma)
    yield index
    for info in index.catalog.collections():
        chroma.drop(info.key)
    index.catalog.close()
