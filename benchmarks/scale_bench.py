"""Scale benchmark: query latency of the retrieval stages at 10k, 100k and 1M chunks, embedded Chroma vs a
Chroma server, and the memory each configuration needs.

    .venv/bin/python benchmarks/scale_bench.py                          # 10k, 100k, 1M x embedded, server
    .venv/bin/python benchmarks/scale_bench.py --max 100000 --json scale.json
    .venv/bin/python benchmarks/scale_bench.py --sizes 10000 --modes server --queries 200
    RAG_DATABASE__URL=postgresql://... .venv/bin/python benchmarks/scale_bench.py --modes lexical --max 100000

The corpus is synthetic but goes through the real write path: documents of `--chunks-per-doc` chunks
(~60 words each, Zipf-distributed pseudo-words plus a few topic words per document) and 384-d vectors
(a random direction per document plus noise per chunk, so a document's chunks cluster as real embeddings
do; the summary vector is the normalised mean of its chunks, as the pipeline's `centroid` default) are
written with `TwoLevelIndex.write` in batches of ~512 chunks: Chroma records, catalog rows, BM25 (FTS5)
entries and the generation flip. Queries then time every retrieval stage the query pipeline runs, on the
real `TwoLevelIndex` (the live-generation filter included):

- summaries_dense / summaries_lexical: the summary level (k = 2 x summary_docs);
- chunks_dense / chunks_lexical: all chunks (k = candidates);
- chunks_dense_in_docs / chunks_lexical_in_docs: the chunks of the 6 documents the summary level picked;
- retrieve: `HybridRetriever.retrieve` as a whole (both levels, fusion), with the query vector given:
  the production stage also embeds the question (~5-15 ms on CPU, independent of the index size).

`--modes lexical` writes the catalog alone (chunk rows, BM25 entries, the live flip: step 3 of the write
protocol) and times only the lexical stages: Chroma's write speed makes 1M chunks too slow to build on a
small machine, the catalog does not (hit@10 is then BM25's alone).

Each size x mode runs in its own child process (fresh data dir, and a fresh `chroma run` for the server
mode), so the peak RSS (VmHWM) is that configuration's: the benchmark process (catalog, BM25, and Chroma
itself when embedded) and the Chroma server process. A configuration that runs past `--timeout-s` is
killed and reported as such; sizes not measured are extrapolated from the two largest measured sizes
only in a separately labelled table.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import math
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

DIM = 384
WORDS_PER_CHUNK = 60
TOPIC_WORDS = 12
VOCAB = 40_000
STAGES = (
    "summaries_dense",
    "summaries_lexical",
    "chunks_dense",
    "chunks_lexical",
    "chunks_dense_in_docs",
    "chunks_lexical_in_docs",
    "retrieve",
)


# synthetic corpus ------------------------------------------------------------------------------------


def vocabulary(seed: int) -> list[str]:
    """Pronounceable pseudo-words (consonant-vowel syllables), unique, never English stop words."""
    rng = np.random.default_rng(seed)
    consonants, vowels = "bdfgklmnprstvz", "aeiou"
    words: dict[str, None] = {}
    while len(words) < VOCAB:
        syllables = rng.integers(2, 5)
        word = "".join(
            consonants[rng.integers(len(consonants))] + vowels[rng.integers(len(vowels))]
            for _ in range(syllables)
        )
        words[word] = None
    return list(words)


class Corpus:
    """Deterministic documents: document `d` is the same in every run and every process."""

    def __init__(self, chunks: int, chunks_per_doc: int, seed: int = 7) -> None:
        self.chunks = chunks
        self.chunks_per_doc = chunks_per_doc
        self.docs = math.ceil(chunks / chunks_per_doc)
        self.seed = seed
        self.words = np.array(vocabulary(seed))
        ranks = np.arange(1, VOCAB + 1, dtype=np.float64)
        weights = 1.0 / ranks**1.07
        self.zipf = weights / weights.sum()

    def doc_chunks(self, d: int) -> int:
        return min(self.chunks_per_doc, self.chunks - d * self.chunks_per_doc)

    def _rng(self, d: int, salt: int = 0) -> np.random.Generator:
        return np.random.default_rng([self.seed, d, salt])

    def topic(self, d: int) -> np.ndarray:
        """The document's topic words: drawn from the rarer half of the vocabulary."""
        return self._rng(d, 1).choice(self.words[VOCAB // 2 :], TOPIC_WORDS, replace=False)

    def centroid(self, d: int) -> np.ndarray:
        v = self._rng(d, 2).standard_normal(DIM).astype(np.float32)
        return v / np.linalg.norm(v)

    def document(self, d: int) -> tuple[list[str], np.ndarray]:
        """(chunk texts, unit chunk vectors) of document `d`."""
        n = self.doc_chunks(d)
        rng = self._rng(d)
        topic = self.topic(d)
        common = rng.choice(self.words, size=(n, WORDS_PER_CHUNK), p=self.zipf)
        texts = []
        for row in common:
            words = list(row)
            for slot in rng.choice(WORDS_PER_CHUNK, 4, replace=False):
                words[slot] = topic[rng.integers(TOPIC_WORDS)]
            texts.append(" ".join(words) + ".")
        noise = rng.standard_normal((n, DIM)).astype(np.float32) * (0.9 / math.sqrt(DIM))
        vectors = self.centroid(d)[None, :] + noise
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        return texts, vectors

    def query(self, q: int) -> tuple[int, str, np.ndarray]:
        """A question aimed at one document: some of its topic words and a common word; a vector near
        its direction."""
        rng = np.random.default_rng([self.seed, 10**9 + q])
        d = int(rng.integers(self.docs))
        topic = self.topic(d)
        text = " ".join([*rng.choice(topic, 3, replace=False), str(self.words[rng.integers(50)])])
        v = self.centroid(d) + rng.standard_normal(DIM).astype(np.float32) * (1.2 / math.sqrt(DIM))
        return d, text, v / np.linalg.norm(v)


def doc_id(d: int) -> str:
    return f"doc{d:07d}"


def writes(corpus: Corpus, info: Any, docs: Sequence[int]) -> tuple[list[Any], np.ndarray, np.ndarray]:
    from rag_core.types import Chunk, DocumentSummary
    from vectorstore.catalog import DocumentWrite

    batch, summary_vectors, chunk_vectors = [], [], []
    for d in docs:
        texts, vectors = corpus.document(d)
        did, version, source = doc_id(d), f"v{d:07d}", f"/synthetic/{doc_id(d)}.txt"
        title = f"Document {d}"
        chunks, offset = [], 0
        for i, text in enumerate(texts):
            chunks.append(
                Chunk(
                    id=f"{did}:{version}:{i}",
                    collection=info.name,
                    doc_id=did,
                    version=version,
                    source=source,
                    title=title,
                    text=text,
                    index=i,
                    page=None,
                    section="",
                    start=offset,
                    end=offset + len(text),
                    hash=hashlib.blake2b(text.encode(), digest_size=12).hexdigest(),
                    file_type="txt",
                    tokens=WORDS_PER_CHUNK,
                )
            )
            offset += len(text) + 2
        summary = " ".join(texts[0].split()[:40])
        mean = vectors.mean(axis=0)
        summary_vectors.append(mean / np.linalg.norm(mean))
        chunk_vectors.append(vectors)
        batch.append(
            DocumentWrite(
                doc_id=did,
                source=source,
                relpath=f"{did}.txt",
                title=title,
                file_type="txt",
                version=version,
                content_hash=hashlib.sha1(version.encode()).hexdigest(),
                fingerprint="scale-bench",
                size=offset,
                mtime=0.0,
                summary=DocumentSummary(
                    id=f"{did}:{version}:summary",
                    collection=info.name,
                    doc_id=did,
                    version=version,
                    source=source,
                    title=title,
                    text=summary,
                    strategy="extractive",
                    chunk_count=len(chunks),
                    file_type="txt",
                ),
                chunks=chunks,
                metadata={},
            )
        )
    return batch, np.vstack(summary_vectors), np.vstack(chunk_vectors)


class GivenVector:
    """An embedder stand-in for `HybridRetriever`: returns the vector set for the next query."""

    model_name = "synthetic-384"
    dimension = DIM

    def __init__(self) -> None:
        self.vector = np.zeros(DIM, dtype=np.float32)

    def coverage(self, text: str) -> float:
        return 1.0

    def embed_array(self, texts: Sequence[str], *, query: bool = False) -> np.ndarray:
        return np.vstack([self.vector] * len(texts))


# one configuration (child process) ---------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def chroma_server(root: Path) -> Iterator[tuple[str, int]]:
    import httpx

    binary = Path(sys.executable).parent / "chroma"
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = (root / "chroma-server.log").open("wb")
    proc = subprocess.Popen(
        [str(binary), "run", "--path", str(root / "chroma-server"), "--port", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"chroma run exited with {proc.returncode}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{url}/api/v2/heartbeat", timeout=2).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError("chroma run did not start within 120 s")
            time.sleep(0.2)
        yield url, proc.pid
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def peak_rss_mb(pid: int | str = "self") -> float:
    """VmHWM (peak resident set) of a live process, in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def du_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 1e6


def clock(times: dict[str, float], stage: str, call: Any, *args: Any) -> Any:
    started = time.perf_counter()
    out = call(*args)
    times[stage] = time.perf_counter() - started
    return out


def percentiles(values: list[float]) -> dict[str, float]:
    ms = np.array(values) * 1000
    return {
        "p50_ms": round(float(np.percentile(ms, 50)), 2),
        "p95_ms": round(float(np.percentile(ms, 95)), 2),
        "mean_ms": round(float(ms.mean()), 2),
    }


def run_one(
    size: int, mode: str, workdir: Path, queries: int, chunks_per_doc: int, batch_chunks: int
) -> dict[str, Any]:
    from rag.query.request import Filters
    from rag.query.retrieve import HybridRetriever
    from rag_core.query_settings import RetrievalSettings
    from vectorstore.catalog import Catalog
    from vectorstore.chroma_store import ChromaStore
    from vectorstore.index import TwoLevelIndex

    corpus = Corpus(size, chunks_per_doc)
    result: dict[str, Any] = {
        "chunks": size,
        "mode": mode,
        "documents": corpus.docs,
        "batch_chunks": batch_chunks,
    }
    dense = mode != "lexical"  # lexical: the catalog and BM25 alone, no Chroma (cheap at 1M chunks)
    with contextlib.ExitStack() as stack:
        server_pid = None
        if mode == "server":
            url, server_pid = stack.enter_context(chroma_server(workdir))
            chroma = ChromaStore(url=url)
        else:
            chroma = ChromaStore(path=workdir / "chroma")  # never opened in lexical mode
        database = os.environ.get("RAG_DATABASE__URL", "")  # the catalog on PostgreSQL, else SQLite
        result["database"] = "postgresql" if database else "sqlite"
        index = TwoLevelIndex(Catalog(database or workdir / "catalog.sqlite3"), chroma)
        if database and index.catalog.collection("scale") is not None:  # left by another configuration
            index.delete_collection("scale")
        info = index.open_collection("scale", embedder=GivenVector.model_name, dimension=lambda: DIM)

        # write through the real protocol, timing Chroma's share
        upsert = chroma.upsert
        in_chroma = 0.0

        def timed_upsert(*args: Any, **kwargs: Any) -> None:
            nonlocal in_chroma
            started = time.perf_counter()
            upsert(*args, **kwargs)
            in_chroma += time.perf_counter() - started

        chroma.upsert = timed_upsert  # type: ignore[method-assign]
        docs_per_write = max(1, batch_chunks // chunks_per_doc)
        generate = write = 0.0
        for first in range(0, corpus.docs, docs_per_write):
            started = time.perf_counter()
            batch, summary_vectors, chunk_vectors = writes(
                corpus, info, range(first, min(first + docs_per_write, corpus.docs))
            )
            generated = time.perf_counter()
            if dense:
                index.write(info, batch, summary_vectors, chunk_vectors)  # type: ignore[arg-type]
            else:  # step 3 of the write protocol alone: chunk rows, BM25 entries, the live flip
                index.catalog.publish(info, batch)
            generate += generated - started
            write += time.perf_counter() - generated
        counts = index.catalog.counts(info.name)
        assert counts == {"documents": corpus.docs, "chunks": size}, counts
        assert not dense or chroma.count(info.key, "chunks") == size
        result["write"] = {
            "seconds": round(write, 1),
            "chunks_per_s": round(size / write, 1),
            "chroma_share": round(in_chroma / write, 3),
            "generate_seconds": round(generate, 1),
        }

        retrieval = RetrievalSettings()  # type: ignore[call-arg]
        embedder = GivenVector()
        retriever = HybridRetriever(index, embedder, retrieval)  # type: ignore[arg-type]
        n_sum, k = retrieval.summary_docs * 2, retrieval.candidates
        stages: dict[str, list[float]] = {s: [] for s in STAGES}
        hits = 0
        first_query = None
        for q in range(-5, queries):  # five warm-up queries (the first one is reported apart)
            target, text, vector = corpus.query(q + 5 if q < 0 else 1000 + q)
            vec = vector.tolist()
            times: dict[str, float] = {}
            picked: list[Any] = []
            if dense:
                picked = clock(times, "summaries_dense", index.search_summaries, info, vec, n_sum)
            lexical = clock(times, "summaries_lexical", index.lexical_summaries, info, text, n_sum)
            in_docs = [s.summary.doc_id for s in (picked if dense else lexical)[: retrieval.summary_docs]]
            if dense:
                clock(times, "chunks_dense", index.search_chunks, info, vec, k)
            found_lexical = clock(times, "chunks_lexical", index.lexical_chunks, info, text, k)
            if dense:
                clock(times, "chunks_dense_in_docs", index.search_chunks, info, vec, k, in_docs)
            clock(times, "chunks_lexical_in_docs", index.lexical_chunks, info, text, k, in_docs)
            if dense:
                embedder.vector = vector
                found = clock(times, "retrieve", retriever.retrieve, info, text, Filters()).chunks
            else:
                found = found_lexical
            if q == -5:
                first_query = {stage: round(t * 1000, 1) for stage, t in times.items()}
            if q < 0:
                continue
            for stage, seconds in times.items():
                stages[stage].append(seconds)
            hits += doc_id(target) in {c.chunk.doc_id for c in found[:10]}
        result["queries"] = queries
        result["stages"] = {s: percentiles(v) for s, v in stages.items() if v}
        result["first_query_ms"] = first_query
        result["hit_at_10"] = round(hits / queries, 3)
        result["peak_rss_mb"] = {"benchmark_process": round(peak_rss_mb(), 1)}
        if server_pid is not None:
            result["peak_rss_mb"]["chroma_server"] = round(peak_rss_mb(server_pid), 1)
        result["peak_rss_mb"]["total"] = round(sum(result["peak_rss_mb"].values()), 1)
        index.catalog.close()
    result["disk_mb"] = round(du_mb(workdir), 1)
    return result


# the driver ----------------------------------------------------------------------------------------


def run_child(size: int, mode: str, args: argparse.Namespace, root: Path) -> dict[str, Any]:
    workdir = root / f"{mode}-{size}"
    workdir.mkdir(parents=True)
    command = [
        sys.executable,
        __file__,
        "--child",
        f"{size}:{mode}",
        "--workdir",
        str(workdir),
        "--queries",
        str(args.queries),
        "--chunks-per-doc",
        str(args.chunks_per_doc),
        "--batch-chunks",
        str(args.batch_chunks),
    ]
    env = {**os.environ, "ANONYMIZED_TELEMETRY": "False", "OMP_NUM_THREADS": "1"}
    started = time.monotonic()
    proc = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True, start_new_session=True
    )
    try:
        out, err = proc.communicate(timeout=args.timeout_s)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)  # the child and the `chroma run` it started: its own group
        proc.communicate()
        return {"chunks": size, "mode": mode, "error": f"timed out after {args.timeout_s:.0f} s (killed)"}
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    if proc.returncode != 0:
        return {"chunks": size, "mode": mode, "error": f"exit {proc.returncode}: {err.strip()[-1500:]}"}
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    result["wall_seconds"] = round(time.monotonic() - started, 1)
    return result


def extrapolate(results: list[dict[str, Any]], sizes: Sequence[int]) -> list[dict[str, Any]]:
    """Power-law fit through the two largest measured sizes of each mode (labelled as extrapolated)."""
    rows = []
    for mode in sorted({r["mode"] for r in results}):
        done = sorted((r for r in results if r["mode"] == mode and "stages" in r), key=lambda r: r["chunks"])
        if len(done) < 2:
            continue
        a, b = done[-2], done[-1]
        for size in sizes:
            if size <= b["chunks"]:
                continue
            row: dict[str, Any] = {
                "chunks": size,
                "mode": mode,
                "extrapolated_from": [a["chunks"], b["chunks"]],
            }
            ratio = math.log(size / b["chunks"]) / math.log(b["chunks"] / a["chunks"])
            for stage in ("chunks_dense", "chunks_lexical", "retrieve"):
                if stage not in a["stages"] or stage not in b["stages"]:
                    continue
                pa, pb = a["stages"][stage]["p50_ms"], b["stages"][stage]["p50_ms"]
                row[f"{stage}_p50_ms"] = round(pb * (pb / pa) ** ratio, 1)
            growth = (b["peak_rss_mb"]["total"] - a["peak_rss_mb"]["total"]) / (b["chunks"] - a["chunks"])
            row["peak_rss_mb_total"] = round(b["peak_rss_mb"]["total"] + growth * (size - b["chunks"]), 0)
            rows.append(row)
    return rows


def print_table(results: list[dict[str, Any]], extra: list[dict[str, Any]]) -> None:
    print("\nmeasured (p50 / p95 ms per query; peak RSS MB; write chunks/s)")
    header = ["chunks", "mode", *STAGES, "hit@10", "peak RSS", "write/s"]
    print(" | ".join(header))
    for r in results:
        if "error" in r:
            print(f"{r['chunks']} | {r['mode']} | {r['error']}")
            continue
        cells = [f"{r['chunks']:,}", r["mode"]]
        cells += [
            f"{r['stages'][s]['p50_ms']:.1f} / {r['stages'][s]['p95_ms']:.1f}" if s in r["stages"] else "-"
            for s in STAGES
        ]
        rss = r["peak_rss_mb"]
        rss_text = f"{rss['total']:.0f}" + (
            f" ({rss['benchmark_process']:.0f}+{rss['chroma_server']:.0f})" if "chroma_server" in rss else ""
        )
        cells += [f"{r['hit_at_10']:.2f}", rss_text, f"{r['write']['chunks_per_s']:.0f}"]
        print(" | ".join(cells))
    if extra:
        print("\nEXTRAPOLATED, not measured (power law through the two largest measured sizes)")
        for row in extra:
            print(json.dumps(row))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="10000,100000,1000000", help="chunk counts, comma-separated")
    parser.add_argument("--max", type=int, default=0, help="skip sizes above this many chunks")
    parser.add_argument("--modes", default="embedded,server", help="embedded, server, lexical (no Chroma)")
    parser.add_argument("--queries", type=int, default=100, help="timed queries per configuration")
    parser.add_argument("--chunks-per-doc", type=int, default=20)
    parser.add_argument(
        "--batch-chunks", type=int, default=512, help="chunks per index.write (RAG_INGEST__WRITE_BATCH: 512)"
    )
    parser.add_argument("--timeout-s", type=float, default=1800, help="kill a configuration after this")
    parser.add_argument("--json", type=Path, help="write all results to this file")
    parser.add_argument("--keep", action="store_true", help="keep the data dirs (under --root)")
    parser.add_argument("--root", type=Path, help="where the data dirs go (default: a temp dir)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--workdir", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        size, mode = args.child.split(":")
        result = run_one(int(size), mode, args.workdir, args.queries, args.chunks_per_doc, args.batch_chunks)
        print(json.dumps(result))
        return

    sizes = sorted(int(s) for s in args.sizes.split(","))
    measured = [s for s in sizes if not args.max or s <= args.max]
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    root = args.root or Path(tempfile.mkdtemp(prefix="scale-bench-"))
    root.mkdir(parents=True, exist_ok=True)
    machine = {
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "load_average_start": [round(x, 2) for x in os.getloadavg()],
    }
    with contextlib.suppress(Exception):
        from importlib.metadata import version

        machine["chromadb"] = version("chromadb")
    print(json.dumps(machine))
    results = []
    try:
        for size in measured:
            for mode in modes:
                print(f"-- {size:,} chunks, mode {mode} ...", flush=True)
                result = run_child(size, mode, args, root)
                print(json.dumps(result), flush=True)
                results.append(result)
    finally:
        if not args.keep and args.root is None:
            shutil.rmtree(root, ignore_errors=True)
    machine["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    extra = extrapolate(results, sizes)
    print_table(results, extra)
    if args.json:
        args.json.write_text(
            json.dumps({"machine": machine, "results": results, "extrapolated": extra}, indent=2) + "\n"
        )


if __name__ == "__main__":
    main()
