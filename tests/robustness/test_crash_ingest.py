"""kill -9 a real `rag ingest` at random moments; the data dir stays consistent and a re-run completes it.

Each trial changes about a third of a generated corpus (new revisions), removes and adds a few files,
starts `rag ingest --prune` and kills it with SIGKILL: half of the trials at a random moment within the
ingest's expected duration, half a random 0-50 ms after the n-th write began (n random; a write is seen
as intents appearing in the catalog), so that kills also land inside the write protocol. Then, in a
fresh process (tests/robustness/consistency.py):
- right after the kill: every live document is complete everywhere (manifest row, chunk rows, BM25 rows,
  Chroma summary and chunk records) and is one whole version of its file; counts agree across the stores;
  Chroma records of other generations are all recorded as intents; retrieval returns only live chunks;
- after re-running the ingest to completion: the same, plus every file of the corpus is live at its
  current content, and no Chroma record of a non-live generation nor any intent is left (recover ran).

Set ROBUSTNESS_SEED to replay a run (the seed is printed).
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from tests.robustness._tools import (
    Corpus,
    check_documents,
    inspect_data_dir,
    wait_for_writes,
)
from tests.servers import rag_command, rag_env

KILLS = 10
MAX_ATTEMPTS = 24
FILES = 40
WRITE_BATCH = "8"  # small write batches: more of the run is spent inside the write protocol


def run_ingest(env: dict[str, str], corpus: Path, collection: str, timeout: float = 900) -> tuple[Any, float]:
    started = time.monotonic()
    result = subprocess.run(
        rag_command("ingest", str(corpus), "--collection", collection, "--prune", "--json"),
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )
    took = time.monotonic() - started
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout), took


def kill_ingest(
    env: dict[str, str], corpus: Path, collection: str, delay: float, catalog: Path, writes: int = 0
) -> tuple[bool, float, str]:
    """Start an ingest and SIGKILL it `delay` s after the start, or, with `writes`, `delay` s after the
    `writes`-th write protocol began (seen as write intents appearing in the catalog). Returns (killed while
    running, when, what was under way)."""
    started = time.monotonic()
    proc = subprocess.Popen(
        rag_command("ingest", str(corpus), "--collection", collection, "--prune", "--json"),
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
    )
    deadline = started + delay
    if writes:
        wait_for_writes(catalog, lambda: proc.poll() is None, writes)
        deadline = time.monotonic() + delay
    try:
        proc.wait(timeout=max(0.0, deadline - time.monotonic()))
        return False, time.monotonic() - started, ""
    except subprocess.TimeoutExpired:
        proc.kill()  # SIGKILL
        proc.wait(timeout=30)
        return True, time.monotonic() - started, f"write {writes} + {delay:.3f} s" if writes else ""


def assert_consistent(report: dict[str, Any], corpus: Corpus, when: str) -> None:
    problems = report["violations"] + check_documents(report, corpus.history)
    assert not problems, f"{when}:\n" + "\n".join(problems[:30])


@pytest.mark.slow
def test_kill_9_during_ingest_then_rerun(tmp_path: Path, isolated_env: Path) -> None:
    seed = int(os.environ.get("ROBUSTNESS_SEED") or random.randrange(1 << 30))
    print(f"ROBUSTNESS_SEED={seed}")
    rng = random.Random(seed)
    data_dir = isolated_env
    env = rag_env(data_dir, RAG_INGEST__WRITE_BATCH=WRITE_BATCH)
    corpus = Corpus(tmp_path / "corpus", rng)
    corpus.add(FILES)

    # the baseline: a complete ingest (its time sets the kill window), and a no-op one (start-up cost)
    report, full = run_ingest(env, corpus.folder, "kb")
    assert report["files"]["added"] == FILES and report["failures"] == []
    _, startup = run_ingest(env, corpus.folder, "kb")
    catalog = data_dir / "catalog.sqlite3"
    per_file = max(0.05, (full - startup) / FILES)
    assert_consistent(inspect_data_dir(data_dir, strict=True), corpus, "baseline")

    kills: list[dict[str, Any]] = []
    attempts = 0
    while len(kills) < KILLS:
        attempts += 1
        assert attempts <= MAX_ATTEMPTS, f"only {len(kills)} of {attempts} ingests were still running"
        # the first kill hits the first ingest of a new collection (collection creation included)
        collection = "fresh" if not kills and attempts == 1 else "kb"
        if collection == "kb":
            corpus.mutate(change=0.25, remove=2, add=2)
            work = int(FILES * 0.25) + 2
        else:
            work = FILES
        expected = startup + per_file * work
        # odd trials: a random moment of the run; even ones: a random moment shortly after a write began
        writes = rng.randint(1, 4) if len(kills) % 2 else 0
        delay = rng.uniform(0, 0.05) if writes else rng.uniform(0.5 * startup, 1.05 * expected)
        killed, ran, moment = kill_ingest(env, corpus.folder, collection, delay, catalog, writes)
        if not killed:  # finished before the kill: a timing sample, not a trial
            if not writes:
                per_file = max(0.05, (ran - startup) / work)
            run_ingest(env, corpus.folder, collection)
            continue
        after_kill = inspect_data_dir(data_dir, queries=(f"doc{rng.randrange(FILES):03d} revision lantern",))
        assert_consistent(after_kill, corpus, f"after kill {len(kills) + 1} at {ran:.2f} s {moment}")

        rerun, _ = run_ingest(env, corpus.folder, collection)
        assert rerun["failures"] == [] and rerun["files"]["failed"] == 0
        after_rerun = inspect_data_dir(data_dir, strict=True)
        assert_consistent(after_rerun, corpus, f"after the re-run of kill {len(kills) + 1}")
        live = {
            d["source"]: d["content_hash"]
            for d in after_rerun["documents"].values()
            if d["collection"] == collection
        }
        assert live == corpus.current(), "the re-run did not bring the collection up to date"
        kills.append(
            {
                "collection": collection,
                "killed_at": round(ran, 2),
                "moment": moment or "random",
                "expected": round(expected, 2),
                **{
                    k: after_kill["stats"].get(collection, {}).get(k, 0)
                    for k in ("documents", "intents", "chroma_stale_chunks", "chroma_stale_summaries")
                },
            }
        )

    final = inspect_data_dir(data_dir, strict=True, queries=("doc001 revision", "lantern copper meadow"))
    assert_consistent(final, corpus, "final")
    mid_write = sum(1 for k in kills if k["intents"] or k["chroma_stale_chunks"])
    print(f"{len(kills)} kills in {attempts} attempts; {mid_write} left intents or stale records behind")
    for k in kills:
        print(k)
