"""The Chroma server goes down (SIGKILL) and comes back (a new `chroma run` on the same port and data path):
queries answer 503 with a clear message meanwhile and recover by themselves, without an API restart;
an ingest while it is down fails with exit 1 and a clear message, and a re-run completes with the catalog
and Chroma agreeing."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from tests.servers import ChromaServer, RagServer, rag_env, run_rag
from vectorstore.catalog import Catalog
from vectorstore.chroma_store import ChromaStore

pytestmark = [pytest.mark.integration, pytest.mark.slow]

PUMP = """# Heat pump manual

The Frostline heat pump defrosts its outdoor coil every 45 minutes in freezing weather.
Clean the Frostline air filter once a month.
"""
QUESTION = "How often does the Frostline heat pump defrost?"


def ask(api: httpx.Client) -> httpx.Response:
    return api.post(
        "/v1/query", json={"question": QUESTION, "collection": "manuals", "options": {"retrieval_only": True}}
    )


def test_query_gets_503_while_chroma_is_down_and_recovers_when_it_is_back(
    tmp_path: Path, chroma_server: ChromaServer
) -> None:
    env = rag_env(tmp_path / "data", chroma_server.url, RAG_API__WARM_UP="false")
    with RagServer(tmp_path / "api", env) as server, server.client() as api:
        uploaded = api.post(
            "/v1/collections/manuals/documents",
            params={"background": "false"},
            files={"files": ("pump.md", PUMP.encode(), "text/markdown")},
        )
        assert uploaded.status_code == 201, uploaded.text
        before = ask(api)
        assert before.status_code == 200, before.text
        assert "45 minutes" in before.json()["context"][0]["text"]

        chroma_server.kill()
        for _ in range(2):  # the first failure drops the dead connection; the next one reconnects and fails
            down = ask(api)
            assert down.status_code == 503, down.text
            error = down.json()["error"]
            assert error["type"] == "vector_store_unavailable"
            assert "Chroma" in error["message"] and chroma_server.url in error["message"]
            assert "is running" in error["message"]  # the hint: what to check
        ready = api.get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["checks"]["vector_store"]["ok"] is False
        assert api.get("/healthz").status_code == 200  # the process itself is fine
        assert api.get("/v1/collections/manuals/documents").status_code == 200  # catalog-only routes work
        during = api.post(
            "/v1/collections/manuals/documents",
            params={"background": "false"},
            files={"files": ("boiler.md", b"# Boiler\n\nThe Emberline boiler is serviced in autumn.\n")},
        )
        body = during.json()
        if during.status_code == 503:  # the error shape
            text = body["error"]["message"]
        else:  # the upload's job, failed, with the reason
            assert during.status_code == 201 and body["status"] == "failed", during.text
            text = body["error"]
        assert "Chroma" in text and chroma_server.url in text, text

        chroma_server.start()  # same port, same data path; the API is not restarted
        after = ask(api)
        assert after.status_code == 200, after.text
        assert after.json()["context"][0]["text"] == before.json()["context"][0]["text"]
        assert api.get("/readyz").json()["checks"]["vector_store"]["ok"] is True
        again = api.post(
            "/v1/collections/manuals/documents",
            params={"background": "false"},
            files={"files": ("boiler.md", b"# Boiler\n\nThe Emberline boiler is serviced in autumn.\n")},
        )
        assert again.status_code == 201 and again.json()["status"] == "done", again.text
        listed = api.get("/v1/collections/manuals/documents").json()
        assert listed["documents"] == 2 and all(d["status"] == "ready" for d in listed["items"]), listed


def chroma_counts(data_dir: Path, url: str, collection: str) -> tuple[dict[str, int], dict[str, int], int]:
    """(catalog counts, Chroma counts, open intents) of one collection."""
    catalog = Catalog(data_dir / "catalog.sqlite3")
    try:
        info = catalog.collection(collection)
        assert info is not None
        chroma = ChromaStore(url=url)
        in_chroma = {
            "documents": chroma.count(info.key, "summaries"),
            "chunks": chroma.count(info.key, "chunks"),
        }
        return catalog.counts(collection), in_chroma, len(catalog.intents(collection))
    finally:
        catalog.close()


def test_ingest_fails_clearly_while_chroma_is_down_and_a_rerun_completes(
    tmp_path: Path, chroma_server: ChromaServer
) -> None:
    data_dir = tmp_path / "data"
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "pump.md").write_text(PUMP, encoding="utf-8")
    (docs / "garden.md").write_text("# Garden\n\nTomatoes grow in the raised beds near the fence.\n")
    env = rag_env(data_dir, chroma_server.url)
    first = run_rag(["ingest", str(docs), "--collection", "manuals", "--json"], env)
    assert first.returncode == 0, first.stderr
    assert chroma_counts(data_dir, chroma_server.url, "manuals") == (
        {"documents": 2, "chunks": 2},
        {"documents": 2, "chunks": 2},
        0,
    )

    (docs / "pump.md").write_text(PUMP.replace("45 minutes", "50 minutes"), encoding="utf-8")
    (docs / "boiler.md").write_text("# Boiler\n\nThe Emberline boiler needs a service every autumn.\n")
    chroma_server.kill()
    failed = run_rag(["ingest", str(docs), "--collection", "manuals"], env)
    assert failed.returncode == 1, (failed.stdout, failed.stderr)
    message = " ".join(failed.stderr.split())
    assert "error: Chroma" in message and "failed" in message, message
    assert chroma_server.url in message and "is running" in message, message
    assert "Traceback" not in failed.stderr

    chroma_server.start()
    rerun = run_rag(["ingest", str(docs), "--collection", "manuals", "--json"], env)
    assert rerun.returncode == 0, rerun.stderr
    report = json.loads(rerun.stdout)
    assert report["files"] == {**report["files"], "updated": 1, "added": 1, "unchanged": 1, "failed": 0}
    assert report["documents"] == 3 and report["failures"] == [], report
    catalog_counts, in_chroma, intents = chroma_counts(data_dir, chroma_server.url, "manuals")
    assert catalog_counts == in_chroma == {"documents": 3, "chunks": 3}
    assert intents == 0

    asked = run_rag(["ask", QUESTION, "--collection", "manuals", "--retrieval-only", "--json"], env)
    assert asked.returncode == 0, asked.stderr
    top = json.loads(asked.stdout)["context"][0]["text"]
    assert "50 minutes" in top and "45 minutes" not in top
