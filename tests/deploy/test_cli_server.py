"""End to end through the CLI against a real Chroma server: `rag ingest` the sample documents, then
`rag ask` (retrieval only, and a full answer with the bundled model). Nothing is written to an embedded
Chroma in the data dir; the server holds exactly what the catalog says is live."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers import REPO
from tests.servers import ChromaServer, rag_env, run_rag
from vectorstore.catalog import Catalog
from vectorstore.chroma_store import ChromaStore

pytestmark = [pytest.mark.integration, pytest.mark.slow]

QUESTION = "How long does the NR-7 run on one charge?"


def test_cli_ingest_and_ask_against_a_chroma_server(tmp_path: Path, chroma_server: ChromaServer) -> None:
    data_dir = tmp_path / "data"
    env = rag_env(data_dir, chroma_server.url)
    ingested = run_rag(["ingest", str(REPO / "samples"), "--collection", "samples", "--json"], env)
    assert ingested.returncode == 0, ingested.stderr
    report = json.loads(ingested.stdout)
    assert report["documents"] >= 4 and report["failures"] == [], report

    assert not (data_dir / "chroma").exists(), "the embedded Chroma must not be used when a URL is set"
    catalog = Catalog(data_dir / "catalog.sqlite3")
    info = catalog.collection("samples")
    assert info is not None
    assert catalog.counts("samples") == {"documents": report["documents"], "chunks": report["chunks"]}
    # the server holds exactly the live records: every chunk and one summary per document
    live = {
        row.doc_id: {c.id for c in catalog.chunks_of("samples", row.doc_id)}
        for row in catalog.documents("samples")
    }
    client = ChromaStore(url=chroma_server.url).client()
    in_chroma = set(client.get_collection(f"{info.key}.chunks").get(include=[])["ids"])
    assert in_chroma == set().union(*live.values())
    summaries = client.get_collection(f"{info.key}.summaries").get(include=["metadatas"])["metadatas"]
    assert sorted(m["doc_id"] for m in summaries) == sorted(live)
    catalog.close()

    again = run_rag(["ingest", str(REPO / "samples"), "--collection", "samples", "--json"], env)
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["files"]["unchanged"] == report["files"]["added"]

    evidence = run_rag(["ask", QUESTION, "--collection", "samples", "--retrieval-only", "--json"], env)
    assert evidence.returncode == 0, evidence.stderr
    context = json.loads(evidence.stdout)["context"]
    assert "robot-faq" in context[0]["source"] and "11 hours" in context[0]["text"]

    ask = ["ask", QUESTION, "--collection", "samples", "--retrieval-only"]
    later = run_rag([*ask, "--json", "--after", "2999-01-01"], env)  # the samples were written before
    assert later.returncode == 0, later.stderr
    assert json.loads(later.stdout)["context"] == []
    earlier = run_rag([*ask, "--json", "--before", "2999-01-01T00:00"], env)
    assert json.loads(earlier.stdout)["context"][0]["source"] == context[0]["source"]
    told = run_rag([*ask, "--after", "2999-01-01"], env)
    assert "no indexed document matches the filters" in told.stdout, told.stdout
    bad = run_rag([*ask, "--after", "yesterday"], env)
    assert bad.returncode != 0 and "--after" in bad.stderr and "%Y-%m-%d" in bad.stderr

    answered = run_rag(["ask", QUESTION, "--collection", "samples", "--json"], env)
    assert answered.returncode == 0, answered.stderr
    response = json.loads(answered.stdout)
    assert response["context"] and response["answer"]
    assert response["refused"] or any("robot-faq" in c["source"] for c in response["citations"]), response
