"""The PostgreSQL server under the catalog stops and comes back: queries and conversations answer 503
with a clear message meanwhile and recover by themselves, without an API restart."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.postgres import PostgresServer, postgres_bin
from tests.servers import RagServer, rag_env

pytestmark = [pytest.mark.integration, pytest.mark.slow]

KILN = """# Kiln manual

The Emberline kiln reaches 1250 degrees in about six hours.
Let the Emberline kiln cool for twelve hours before opening the lid.
"""
QUESTION = "How hot does the Emberline kiln get?"


@pytest.fixture
def own_postgres() -> Iterator[PostgresServer]:
    """A PostgreSQL server of this test alone (it is stopped and started again)."""
    if postgres_bin() is None:
        pytest.skip("PostgreSQL is not installed")
    server = PostgresServer().start()
    try:
        yield server
    finally:
        server.remove()


def ask(api: httpx.Client) -> httpx.Response:
    options = {"retrieval_only": True}
    return api.post("/v1/query", json={"question": QUESTION, "collection": "manuals", "options": options})


def test_query_gets_503_while_postgres_is_down_and_recovers_when_it_is_back(
    tmp_path: Path, own_postgres: PostgresServer
) -> None:
    database = own_postgres.new_database()
    env = rag_env(tmp_path / "data", RAG_API__WARM_UP="false", RAG_DATABASE__URL=database)
    with RagServer(tmp_path / "api", env) as server, server.client() as api:
        uploaded = api.post(
            "/v1/collections/manuals/documents",
            params={"background": "false"},
            files={"files": ("kiln.md", KILN.encode(), "text/markdown")},
        )
        assert uploaded.status_code == 201, uploaded.text
        assert "1250 degrees" in ask(api).json()["context"][0]["text"]

        own_postgres.stop()
        for response in (
            ask(api),
            api.get("/v1/conversations"),
            api.get("/v1/collections/manuals/documents"),
        ):
            assert response.status_code == 503, response.text
            error = response.json()["error"]
            assert error["type"] == "backend_unavailable"
            assert "database" in error["message"] and "127.0.0.1" in error["message"]
            assert "PostgreSQL is running" in error["message"]  # the hint: what to check
        assert api.get("/healthz").status_code == 200  # the process itself is fine

        own_postgres.start()
        again = ask(api)
        assert again.status_code == 200, again.text
        assert "1250 degrees" in again.json()["context"][0]["text"]
        assert api.get("/v1/conversations").status_code == 200
    assert "Traceback" not in server.log()
