"""The CLI beside a running `rag serve` on one data dir (embedded Chroma), with real processes: the
server announces itself, `rag ingest` and `rag ask` go through it while HTTP queries run (no 503, the new
document found both ways); the server killed mid-ingest leaves every document whole or absent and the
next run finishes the work; a killed server's announcement is ignored, then cleaned up by the next start;
a server started while a command works in-process waits for it."""

from __future__ import annotations

import json
import stat
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from rag.local.discovery import server_or_in_process
from rag_core.settings import Settings
from tests.helpers import REPO
from tests.servers import RagServer, free_port, rag_command, rag_env, run_rag

pytestmark = [pytest.mark.integration, pytest.mark.slow]

QUESTION = "How long does the NR-7 run on one charge?"
NEW_QUESTION = "How many litres of coolant does the Zephyr-9 pump hold?"
NEW_TEXT = (
    "# Zephyr-9 coolant pump\n\nThe Zephyr-9 pump holds 37 litres of coolant. Its impeller is made of "
    "bronze and must be inspected every 400 operating hours.\n"
)
BULK_FILES = 60


def announcement(data_dir: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((data_dir / "server.json").read_text())
    return data


def retrieve(client: httpx.Client, question: str, collection: str) -> dict[str, Any]:
    body = {"question": question, "collection": collection, "options": {"retrieval_only": True}}
    response = client.post("/v1/query", json=body)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def cli_retrieve(question: str, collection: str, env: dict[str, str]) -> dict[str, Any]:
    done = run_rag(["ask", question, "--collection", collection, "--retrieval-only", "--json"], env)
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    return result


class Queries:
    """HTTP retrieval queries in a loop on a thread, recording every status."""

    def __init__(self, url: str, collection: str) -> None:
        self.url = url
        self.collection = collection
        self.statuses: list[int] = []
        self.errors: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Queries:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=120)

    def _run(self) -> None:
        body = {"question": QUESTION, "collection": self.collection, "options": {"retrieval_only": True}}
        with httpx.Client(base_url=self.url, timeout=120) as client:
            while not self._stop.is_set():
                response = client.post("/v1/query", json=body)
                self.statuses.append(response.status_code)
                if response.status_code != 200:
                    self.errors.append(response.text)


def test_cli_ingest_and_ask_go_through_a_running_server(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    env = rag_env(data_dir)
    new_dir = tmp_path / "new"
    new_dir.mkdir()
    (new_dir / "zephyr-pump.md").write_text(NEW_TEXT)

    with RagServer(tmp_path / "api", env) as api, api.client() as client:
        assert api.proc is not None
        announced = announcement(data_dir)
        assert announced["pid"] == api.proc.pid and announced["url"] == api.url
        assert stat.S_IMODE((data_dir / "server.json").stat().st_mode) == 0o600

        first = run_rag(["ingest", str(REPO / "samples"), "--collection", "docs", "--json"], env)
        assert first.returncode == 0, first.stderr
        assert json.loads(first.stdout)["documents"] >= 4

        with Queries(api.url, "docs") as queries:
            added = run_rag(["ingest", str(new_dir), "--collection", "docs", "--json"], env)
            assert added.returncode == 0, added.stderr
            report = json.loads(added.stdout)
            assert report["files"]["added"] == 1 and report["failures"] == [], report

            over_http = retrieve(client, NEW_QUESTION, "docs")["context"]
            assert over_http and over_http[0]["source"].endswith("zephyr-pump.md"), over_http
            by_cli = cli_retrieve(NEW_QUESTION, "docs", env)["context"]
            assert by_cli and by_cli[0]["source"].endswith("zephyr-pump.md"), by_cli
            answered = run_rag(["ask", NEW_QUESTION, "--collection", "docs", "--json"], env)
            assert answered.returncode == 0, answered.stderr
            answer = json.loads(answered.stdout)
            assert answer["context"] and (answer["answer"] or answer["refused"]), answer
            printed = run_rag(["ask", NEW_QUESTION, "--collection", "docs", "--retrieval-only"], env)
            assert printed.returncode == 0 and "zephyr-pump.md" in printed.stdout, printed.stderr
        assert queries.statuses and not queries.errors, queries.errors[:3]

        ready = client.get("/readyz")
        assert ready.json()["checks"]["vector_store"]["ok"], ready.text
        assert ready.json()["checks"]["announcement"]["ok"], ready.text

        missing = run_rag(["ask", QUESTION, "--collection", "nope", "--json"], env)
        assert missing.returncode == 2, missing.stderr
        error = json.loads(missing.stdout)["error"]  # with --json, the error in the API's shape
        assert error["type"] == "not_found" and "does not exist" in error["message"], error
        assert "Traceback" not in missing.stderr + missing.stdout

        second = run_rag(["serve", "--port", str(free_port())], env, timeout=120)
        assert second.returncode == 2 and "already served by `rag serve`" in second.stderr, second.stderr

        scratch = run_rag(["ingest", str(new_dir), "--collection", "scratch", "--json"], env)
        assert scratch.returncode == 0, scratch.stderr
        deleted = run_rag(["collections", "delete", "scratch", "--yes"], env)
        assert deleted.returncode == 0, deleted.stderr
        assert client.get("/v1/collections/scratch").status_code == 404

    assert not (data_dir / "server.json").exists(), "a clean stop withdraws the announcement"
    in_process = cli_retrieve(NEW_QUESTION, "docs", env)["context"]  # no server: in-process, as before
    assert in_process[0]["source"].endswith("zephyr-pump.md")


def write_bulk(folder: Path) -> list[str]:
    """Files with one unique fact each, long enough that ingesting all of them takes a while."""
    folder.mkdir()
    facts = []
    filler = " ".join(
        f"Section {j} of the maintenance log lists the checks done on shift {j} by the night crew."
        for j in range(40)
    )
    for i in range(BULK_FILES):
        fact = f"Machine unit K{i:03d} was calibrated to {1000 + 7 * i} newtons of force."
        (folder / f"unit-{i:03d}.txt").write_text(f"{fact}\n\n{filler}\n")
        facts.append(fact)
    return facts


def test_a_server_killed_mid_ingest_leaves_nothing_half_visible(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    env = rag_env(data_dir, RAG_INGEST__WRITE_BATCH="4")  # documents become visible a few at a time
    bulk = tmp_path / "bulk"
    facts = write_bulk(bulk)

    with RagServer(tmp_path / "api", env) as api, api.client() as client:
        ingest = subprocess.Popen(
            rag_command("ingest", str(bulk), "--collection", "bulk", "--json"),
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        visible = 0
        while visible == 0 and ingest.poll() is None:
            listed = client.get("/v1/collections/bulk/documents")
            visible = listed.json()["documents"] if listed.status_code == 200 else 0
            time.sleep(0.05)
        api.kill9()
        out, err = ingest.communicate(timeout=120)
    assert 0 < visible < BULK_FILES, "the server must be killed while the ingest runs"
    assert ingest.returncode == 1, err
    said = out + err  # --json: the error is JSON on stdout
    assert "rag serve" in said or "server" in said, said
    assert "Traceback" not in said
    assert (data_dir / "server.json").exists(), "a killed server cannot withdraw its announcement"

    with RagServer(tmp_path / "api2", env) as api, api.client() as client:
        listed = client.get("/v1/collections/bulk/documents").json()
        partial = listed["documents"]
        assert 0 < partial < BULK_FILES
        assert all(d["status"] == "ready" and d["chunks"] > 0 for d in listed["items"]), listed
        by_name = {d["name"]: d for d in listed["items"]}
        for i, fact in enumerate(facts):  # every document whole or absent, at every index level
            name = f"unit-{i:03d}.txt"
            hits = [c["source"] for c in retrieve(client, fact, "bulk")["context"]]
            if name in by_name:
                assert hits and hits[0].endswith(name), (name, hits)
            else:
                assert not any(h.endswith(name) for h in hits), (name, hits)

        rerun = run_rag(["ingest", str(bulk), "--collection", "bulk", "--json"], env)
        assert rerun.returncode == 0, rerun.stderr
        report = json.loads(rerun.stdout)
        assert report["files"]["added"] == BULK_FILES - partial and report["documents"] == BULK_FILES, report
        last = retrieve(client, facts[-1], "bulk")["context"]
        assert last[0]["source"].endswith(f"unit-{BULK_FILES - 1:03d}.txt")


def test_a_killed_servers_announcement_is_ignored_then_cleaned_up(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    env = rag_env(data_dir)
    api = RagServer(tmp_path / "api", env).start()
    assert api.proc is not None
    dead_pid = api.proc.pid
    api.kill9()
    assert announcement(data_dir)["pid"] == dead_pid

    ingested = run_rag(["ingest", str(REPO / "samples"), "--collection", "docs", "--json"], env)
    assert ingested.returncode == 0, ingested.stderr  # in-process: the stale announcement is ignored
    assert cli_retrieve(QUESTION, "docs", env)["context"][0]["source"].endswith("robot-faq.html")
    assert announcement(data_dir)["pid"] == dead_pid, "the CLI leaves the file to the next server start"

    with RagServer(tmp_path / "api2", env) as api2, api2.client() as client:
        assert api2.proc is not None and announcement(data_dir)["pid"] == api2.proc.pid
        assert f"removed the announcement of a server that is gone (pid {dead_pid})" in api2.log()
        assert retrieve(client, QUESTION, "docs")["context"][0]["source"].endswith("robot-faq.html")
        assert cli_retrieve(QUESTION, "docs", env)["context"][0]["source"].endswith("robot-faq.html")


def test_a_server_waits_for_in_process_work_then_serves(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    env = rag_env(data_dir)
    ingested = run_rag(["ingest", str(REPO / "samples"), "--collection", "docs", "--json"], env)
    assert ingested.returncode == 0, ingested.stderr
    api = RagServer(tmp_path / "api", env)
    try:
        # this test process plays an in-process `rag ingest`, with the real code path
        with server_or_in_process(Settings(data_dir=data_dir), write=True) as server:
            assert server is None
            api.start(wait=False)
            deadline = time.monotonic() + 120
            while "waiting for rag commands working in" not in api.log():
                assert api.alive and time.monotonic() < deadline, api.log()
                time.sleep(0.1)
            with pytest.raises(httpx.TransportError):
                httpx.get(api.url + "/healthz", timeout=2)
            assert not (data_dir / "server.json").exists()
        api.wait_ready()
        assert api.proc is not None and announcement(data_dir)["pid"] == api.proc.pid
        with api.client() as client:
            assert retrieve(client, QUESTION, "docs")["context"][0]["source"].endswith("robot-faq.html")
    finally:
        api.stop()
