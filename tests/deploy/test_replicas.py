"""Several API processes (replicas) sharing one Chroma server and one data dir stay consistent.

Two real `rag serve` processes, A and B, on their own ports, with the same RAG_DATA_DIR and
RAG_CHROMA__URL pointing at one real `chroma run` server: what one adds, replaces or deletes, the other's
next query sees, at every level (dense chunks, BM25 chunks, summaries, the Chroma records themselves).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.postgres import PostgresServer
from tests.servers import ChromaServer, RagServer, rag_env
from vectorstore.catalog import Catalog
from vectorstore.chroma_store import ChromaStore
from vectorstore.index import TwoLevelIndex

pytestmark = [pytest.mark.integration, pytest.mark.slow]

COLLECTION = "team"
TURBINE_V1 = """# Zorblax turbine

The Zorblax turbine spins at 4200 rpm in normal operation.
The Quillon maintenance crew services the Zorblax turbine every nine weeks.
"""
TURBINE_V2 = """# Zorblax turbine

The Zorblax turbine spins at 5100 rpm since the spring upgrade.
The Quillon maintenance crew services the Zorblax turbine every nine weeks.
"""
GARDEN = """# Community garden

The community garden opens at dawn. Tomatoes and beans grow in the raised beds near the fence.
Volunteers water the plants every evening during the summer.
"""
QUESTION = "How fast does the Zorblax turbine spin?"
# Each retrieval path on its own: dense chunks only, BM25 chunks only, and everything.
PATHS: dict[str, list[str]] = {
    "dense": ["lexical", "summaries"],
    "lexical": ["dense", "summaries"],
    "all": [],
}


def upload(api: httpx.Client, name: str, text: str) -> dict[str, Any]:
    response = api.post(
        f"/v1/collections/{COLLECTION}/documents",
        params={"background": "false"},
        files={"files": (name, text.encode(), "text/markdown")},
    )
    assert response.status_code == 201, response.text
    job = response.json()
    assert job["status"] == "done", job
    assert job["files"][0]["status"] in ("added", "updated"), job
    return job["files"][0]


def context(api: httpx.Client, path: str, question: str = QUESTION) -> list[dict[str, Any]]:
    body = {
        "question": question,
        "collection": COLLECTION,
        "options": {"retrieval_only": True, "disabled": PATHS[path]},
    }
    response = api.post("/v1/query", json=body)
    assert response.status_code == 200, response.text
    return response.json()["context"]


def texts_of(items: list[dict[str, Any]], doc_id: str) -> str:
    return "\n".join(item["text"] for item in items if item["doc_id"] == doc_id)


def reader(data_dir: Path, chroma_url: str) -> TwoLevelIndex:
    """A third process's view (this test's): the shared catalog and the shared server."""
    return TwoLevelIndex(Catalog(data_dir / "catalog.sqlite3"), ChromaStore(url=chroma_url))


def test_two_api_processes_share_one_chroma_server_and_data_dir(
    tmp_path: Path, chroma_server: ChromaServer
) -> None:
    data_dir = tmp_path / "shared-data"
    env = rag_env(data_dir, chroma_server.url, RAG_API__WARM_UP="false")
    a = RagServer(tmp_path / "a", env, "A").start(wait=False)
    b = RagServer(tmp_path / "b", env, "B").start(wait=False)
    with contextlib.ExitStack() as stack:
        stack.enter_context(a)
        stack.enter_context(b)
        api_a = stack.enter_context(a.client())
        api_b = stack.enter_context(b.client())

        # added through A, seen by B's next query: dense, lexical, and both fused
        turbine = upload(api_a, "turbine.md", TURBINE_V1)["doc_id"]
        garden = upload(api_a, "garden.md", GARDEN)["doc_id"]
        listed = api_b.get(f"/v1/collections/{COLLECTION}/documents").json()
        assert {d["doc_id"] for d in listed["items"]} == {turbine, garden}
        for path in PATHS:
            assert "4200 rpm" in texts_of(context(api_b, path), turbine), path

        index = reader(data_dir, chroma_server.url)
        info = index.collection(COLLECTION)
        qvec = [1.0] + [0.0] * 383  # any vector: the summary level must list both live documents
        assert {s.summary.doc_id for s in index.search_summaries(info, qvec, k=10)} == {turbine, garden}
        assert [s.summary.doc_id for s in index.lexical_summaries(info, "Zorblax turbine", k=10)] == [turbine]

        # replaced through B, seen by A: the new content only, at every level
        assert upload(api_b, "turbine.md", TURBINE_V2)["doc_id"] == turbine
        for path in PATHS:
            text = texts_of(context(api_a, path), turbine)
            assert "5100 rpm" in text and "4200 rpm" not in text, (path, text)

        # deleted through B, gone from A's next query, from every level, and from the Chroma server
        assert api_b.delete(f"/v1/collections/{COLLECTION}/documents/{turbine}").status_code == 204
        for path in PATHS:
            items = context(api_a, path)
            assert texts_of(items, turbine) == "", path
            if path != "lexical":  # dense search always returns the nearest live chunks: the garden's
                assert texts_of(items, garden), path
        listed = api_a.get(f"/v1/collections/{COLLECTION}/documents").json()
        assert [d["doc_id"] for d in listed["items"]] == [garden]
        assert index.lexical_chunks(info, "Zorblax turbine", k=10) == []
        assert index.lexical_summaries(info, "Zorblax turbine", k=10) == []
        assert turbine not in {s.summary.doc_id for s in index.search_summaries(info, qvec, k=10)}
        counts = index.catalog.counts(info.name)
        assert counts["documents"] == 1
        assert index.chroma.count(info.key, "summaries") == 1
        assert index.chroma.count(info.key, "chunks") == counts["chunks"]
        assert index.catalog.intents(info.name) == []
        assert [p.name for p in (data_dir / "uploads").rglob("*.md")] == ["garden.md"]

        # the collection dropped through B and created again: A's next query works (no stale handle)
        assert api_b.delete(f"/v1/collections/{COLLECTION}").status_code == 204
        assert api_a.get(f"/v1/collections/{COLLECTION}/documents").status_code == 404
        again = upload(api_b, "turbine.md", TURBINE_V1)["doc_id"]
        for path in PATHS:
            assert "4200 rpm" in texts_of(context(api_a, path), again), path
        index.catalog.close()


@contextlib.contextmanager
def two_hosts(
    tmp_path: Path, chroma_server: ChromaServer, database: str, **settings: str
) -> Iterator[tuple[RagServer, httpx.Client, RagServer, httpx.Client]]:
    """Two `rag serve` processes as on two hosts: separate data dirs, one PostgreSQL database, one Chroma
    server; each with a client. `settings`: more RAG_* variables for both."""
    hosts = []
    for name in ("a", "b"):
        env = rag_env(tmp_path / f"data-{name}", chroma_server.url, RAG_API__WARM_UP="false", **settings)
        hosts.append(RagServer(tmp_path / name, env | {"RAG_DATABASE__URL": database}, name.upper()))
    a, b = (host.start(wait=False) for host in hosts)
    with contextlib.ExitStack() as stack:
        stack.enter_context(a)
        stack.enter_context(b)
        yield a, stack.enter_context(a.client()), b, stack.enter_context(b.client())


def test_two_hosts_share_one_postgres_and_one_chroma_server(
    tmp_path: Path, chroma_server: ChromaServer, postgres: PostgresServer
) -> None:
    """Two replicas as on two hosts: separate data dirs (nothing shared on disk), one PostgreSQL server for
    the catalog, BM25 index and conversations, one Chroma server for the vectors."""
    database = postgres.new_database()
    with two_hosts(tmp_path, chroma_server, database) as (_a, api_a, b, api_b):
        turbine = upload(api_a, "turbine.md", TURBINE_V1)["doc_id"]  # uploaded through A
        garden = upload(api_b, "garden.md", GARDEN)["doc_id"]
        for api in (api_a, api_b):
            listed = api.get(f"/v1/collections/{COLLECTION}/documents").json()
            assert {d["doc_id"] for d in listed["items"]} == {turbine, garden}
        for path in PATHS:  # queried through B
            assert "4200 rpm" in texts_of(context(api_b, path), turbine), path

        replaced = upload(api_b, "turbine.md", TURBINE_V1.replace("4200", "5100"))  # the same name via B
        assert (replaced["doc_id"], replaced["status"]) == (turbine, "updated")
        for path in PATHS:
            text = texts_of(context(api_a, path), turbine)
            assert "5100 rpm" in text and "4200" not in text, (path, text)
        assert api_a.delete(f"/v1/collections/{COLLECTION}/documents/{turbine}").status_code == 204
        for path in PATHS:
            text = texts_of(context(api_b, path), turbine)
            assert text == "", (path, text)

        started = api_a.post(  # a job started on A is polled on B
            f"/v1/collections/{COLLECTION}/documents",
            params={"background": "true"},
            files={"files": ("garden-2.md", GARDEN.replace("dawn", "sunrise").encode(), "text/markdown")},
        )
        assert started.status_code == 202, started.text
        job = b.wait_job(api_b, started.json()["id"])
        assert job["status"] == "done" and job["files"][0]["name"] == "garden-2.md", job

        conversation = api_a.post("/v1/conversations", json={"collection": COLLECTION}).json()["id"]
        asked = api_b.post(f"/v1/conversations/{conversation}/messages", json={"content": QUESTION})
        assert asked.status_code == 200, asked.text
        messages = api_a.get(f"/v1/conversations/{conversation}").json()["messages"]
        assert [m["role"] for m in messages] == ["user", "assistant"]
        assert not list((tmp_path / "data-a").glob("*.sqlite3")) and not list(
            (tmp_path / "data-b").glob("*.sqlite3")
        )


def _report(i: int) -> str:
    """A document of a few chunks with its own marker word (part-NN-marker)."""
    lines = [f"# Site report {i}", ""]
    for j in range(60):
        lines.append(
            f"Inspection {j} of site {i} (marker sitecode{i:02d}x) found the pumps, valves and gauges "
            f"in order; the crew logged pressure readings of {100 + i * 7 + j} kPa, filter bank {j % 5}."
        )
    return "\n".join(lines) + "\n"


def test_a_host_killed_mid_ingest_leaves_whole_documents_and_the_next_write_cleans_up(
    tmp_path: Path, chroma_server: ChromaServer, postgres: PostgresServer
) -> None:
    """kill -9 of the host that is ingesting: the other host sees only whole documents, can write at once
    (the dead writer's database lock went with its session), and its first write removes what the dead
    one had half written (no vector without a live document)."""
    database = postgres.new_database()
    one_document_per_write = {"RAG_INGEST__WRITE_BATCH": "8"}
    with two_hosts(tmp_path, chroma_server, database, **one_document_per_write) as (a, api_a, _b, api_b):
        reports = [(f"site-{i:02d}.md", _report(i)) for i in range(20)]
        started = api_a.post(
            f"/v1/collections/{COLLECTION}/documents",
            params={"background": "true"},
            files=[("files", (name, text.encode(), "text/markdown")) for name, text in reports],
        )
        assert started.status_code == 202, started.text
        job_id = started.json()["id"]
        job: dict[str, Any] = {}
        for _ in range(3000):
            job = api_b.get(f"/v1/jobs/{job_id}").json()  # polled on the other host
            if job["files_done"] >= 2:
                break
            time.sleep(0.02)
        assert 2 <= job["files_done"] < job["files_total"], job
        assert a.proc is not None
        a.proc.kill()
        a.proc.wait()

        items = api_b.get(f"/v1/collections/{COLLECTION}/documents").json()["items"]
        listed = [doc for doc in items if doc["status"] == "ready"]
        assert 2 <= len(listed) < len(reports)
        for doc in listed:
            i = int(doc["source"].split("-")[1].split(".")[0])
            for path in ("lexical", "dense"):
                found = context(api_b, path, f"What did the inspections at site code sitecode{i:02d}x find?")
                assert texts_of(found, doc["doc_id"]), (path, doc["source"])

        catalog = Catalog(database)
        info = catalog.collection(COLLECTION)
        assert info is not None
        leftovers = catalog.intents(info.name)
        upload(api_b, "after.md", GARDEN)  # at once: no lock left behind by the dead writer
        assert not catalog.intents(info.name), leftovers
        counts = catalog.counts(info.name)
        store = ChromaStore(url=chroma_server.url)
        assert store.count(info.dense_key, "chunks") == counts["chunks"]
        assert store.count(info.dense_key, "summaries") == counts["documents"]
