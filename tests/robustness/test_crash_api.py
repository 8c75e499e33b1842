"""kill -9 a real `rag serve` mid-upload: while the multipart body arrives, and three times during the
ingest job (after a random number of files, and once a few ms after a random write began).

After each kill the data dir is consistent (tests/robustness/consistency.py), a restarted server lists
what the catalog holds, re-uploading the same files completes the collection (no non-live Chroma record
or intent left), and nothing was written outside the data dir: the server runs with its own cwd, HOME
and TMPDIR inside the test's folder, and that folder is compared before and after.
"""

from __future__ import annotations

import os
import random
import secrets
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.uploads import upload_dir
from tests.robustness._tools import (
    Corpus,
    changed,
    check_documents,
    inspect_data_dir,
    snapshot,
    wait_for_writes,
)
from tests.servers import RagServer, rag_env

FILES = 18  # + one big file: under the 20 files per request limit
COLLECTION = "kb"


def multipart(paths: list[Path]) -> tuple[bytes, str]:
    boundary = secrets.token_hex(16)
    parts = []
    for p in paths:
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="{p.name}"\r\n'
            f"Content-Type: text/plain\r\n\r\n".encode()
            + p.read_bytes()
            + b"\r\n"
        )
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


def upload(client: httpx.Client, paths: list[Path]) -> dict[str, Any]:
    files = [("files", (p.name, p.read_bytes(), "text/plain")) for p in paths]
    response = client.post(f"/v1/collections/{COLLECTION}/documents", files=files)
    assert response.status_code in (201, 202), response.text
    job: dict[str, Any] = response.json()
    return job


def uploaded_history(corpus: Corpus, folder: Path) -> dict[str, dict[str, str]]:
    """The corpus history keyed by where the server stores each upload."""
    return {str(folder / Path(src).name): versions for src, versions in corpus.history.items()}


def check(data_dir: Path, corpus: Corpus, folder: Path, when: str, **kwargs: Any) -> dict[str, Any]:
    report = inspect_data_dir(data_dir, **kwargs)
    problems = report["violations"] + check_documents(report, uploaded_history(corpus, folder))
    assert not problems, f"{when}:\n" + "\n".join(problems[:30])
    return report


def kill_while_receiving(server: RagServer, paths: list[Path]) -> None:
    """Send half of a multipart body slowly, SIGKILL the server, then try to send the rest."""
    body, content_type = multipart(paths)

    def slow() -> Iterator[bytes]:
        step = 64 * 1024
        for i in range(0, len(body), step):
            if i >= len(body) // 2 and server.alive:
                server.kill9()
            yield body[i : i + step]
            time.sleep(0.01)

    try:
        response = httpx.post(
            f"{server.url}/v1/collections/{COLLECTION}/documents",
            content=slow(),
            headers={"Content-Type": content_type},
            timeout=60,
        )
    except httpx.TransportError:
        pass
    else:
        raise AssertionError(f"answered despite the kill: {response.status_code} {response.text[:300]}")
    assert not server.alive


@pytest.mark.slow
@pytest.mark.integration
def test_kill_9_serve_mid_upload(tmp_path: Path, isolated_env: Path) -> None:
    seed = int(os.environ.get("ROBUSTNESS_SEED") or random.randrange(1 << 30))
    print(f"ROBUSTNESS_SEED={seed}")
    rng = random.Random(seed)
    data_dir = isolated_env
    corpus = Corpus(tmp_path / "files", rng)
    corpus.add(FILES)
    # a big file makes the body large enough to be cut in the middle
    big = corpus.folder / "zz-big.txt"
    big.write_text(("lantern copper meadow " * 50 + "\n\n") * 2000, encoding="utf-8")
    paths = sorted(corpus.folder.glob("*.txt"))
    folder = upload_dir(data_dir, COLLECTION).resolve()
    root = tmp_path / "server"
    server = RagServer(root, rag_env(data_dir, RAG_API__WARM_UP="false", RAG_INGEST__WRITE_BATCH="8"))
    before = snapshot(tmp_path, exclude=(data_dir, corpus.folder))
    # what a kill mid-body leaves: nothing published, nothing ingested
    server.start()
    kill_while_receiving(server, paths)
    check(data_dir, corpus, folder, "after a kill while receiving the body")
    published = [p.name for p in folder.glob("*") if not p.name.startswith(".")] if folder.exists() else []
    assert published == []
    staging_left = [p.name for p in folder.glob(".staging-*")] if folder.exists() else []
    big.unlink()
    paths.remove(big)

    outcomes = []
    for trial in range(3):
        if trial:
            corpus.mutate(change=0.5, remove=0, add=0)
        server = RagServer(root, rag_env(data_dir, RAG_API__WARM_UP="false", RAG_INGEST__WRITE_BATCH="8"))
        with server, httpx.Client(base_url=server.url, timeout=120) as client:
            job = upload(client, paths)
            if trial == 1:  # a random 0-30 ms after the n-th write began: inside the write protocol
                writes = rng.randint(1, 3)
                seen = wait_for_writes(
                    data_dir / "catalog.sqlite3", lambda server=server: server.alive, writes, timeout=120
                )
                assert seen == writes, f"only {seen} writes began"
                time.sleep(rng.uniform(0, 0.03))
                state = None
            else:  # a random moment after the n-th file was done
                target = rng.randrange(0, FILES - 4)
                while True:
                    state = client.get(f"/v1/jobs/{job['id']}").json()
                    if state["files_done"] >= target or state["status"] in ("done", "failed"):
                        break
                    time.sleep(0.05)
                time.sleep(rng.uniform(0, 0.4))
            server.kill9()
        assert state is None or state["status"] != "done", "the job finished before the kill"
        after_kill = check(
            data_dir, corpus, folder, f"after kill {trial + 1}", queries=("lantern copper meadow",)
        )
        stats = after_kill["stats"].get(COLLECTION, {})
        outcomes.append({"moment": f"write {writes}" if state is None else f"file {target}", **stats})

        server = RagServer(root, rag_env(data_dir, RAG_API__WARM_UP="false"))
        with server, httpx.Client(base_url=server.url, timeout=120) as client:
            listed = client.get(f"/v1/collections/{COLLECTION}/documents").json()
            assert listed["documents"] == stats.get("documents", 0)
            assert listed["chunks"] == stats.get("chunk_rows", 0)
            job = server.wait_job(client, upload(client, paths)["id"])
            assert job["status"] == "done" and all(f["status"] != "failed" for f in job["files"]), job
            assert server.healthy()
        after = check(data_dir, corpus, folder, f"after the re-upload {trial + 1}", strict=True)
        live = {d["source"]: d["content_hash"] for d in after["documents"].values()}
        assert live == {str(folder / Path(s).name): h for s, h in corpus.current().items()}

    leftovers = changed(before, snapshot(tmp_path, exclude=(data_dir, corpus.folder)))
    leftovers = [p for p in leftovers if not p.startswith("server/serve-") and p not in ("server",)]
    assert leftovers == [], f"written outside the data dir: {leftovers}"
    print("kills during the job:", outcomes)
    print("staging folders left by the kill while receiving:", staging_left)
