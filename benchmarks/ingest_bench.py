"""Ingest speed and memory on this machine, in one run:

(a) raw throughput of the configured embedder on the corpus's chunks: the corpus is loaded and chunked with
    the project's loaders and chunker first, then `embedder.embed_array` is timed on the texts the pipeline
    embeds for those chunks (title + section + text), with the configured batch size. Measured before and
    after (b), to bracket load drift on a shared machine; (b)/(a) uses their mean.
(b) the whole ingest pipeline (walk, hash, load, chunk, extractive summaries, embed chunks + summaries,
    write Chroma + catalog + BM25) into a fresh collection, in chunks per second. Target (b)/(a) >= 0.8.
(c) a no-op re-ingest of the same corpus, and of 1,000 unchanged small files, in process and through the
    `rag ingest` command (interpreter start-up and imports included). Target < 5 s.
(d) peak memory (RSS high-water mark, `os.wait4` rusage) of a child `rag ingest` of the hotpotqa set into
    a fresh data dir. Target < 2 GB.

    .venv/bin/python benchmarks/ingest_bench.py [../shared/bench/hotpotqa/docs] [--json FILE]

`--breakdown` also times where the pipeline's main thread spends its time (embedding, writing, waiting
for the loader thread) in a further ingest into another fresh collection; `--profile FILE` runs that
ingest under cProfile (main thread) and prints the top functions.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import platform
import pstats
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from ingest.loaders import load_file
from ingest.pipeline import IngestPipeline, embedding_text
from ingest.walk import walk
from rag.components import Components
from rag_core.errors import DocumentError
from rag_core.settings import load_settings

SHARED_BENCH = Path(__file__).resolve().parents[2] / "shared" / "bench"  # ../shared beside the checkout
DEFAULT_MEMORY_SET = SHARED_BENCH / "hotpotqa"
DEFAULT_CORPUS = DEFAULT_MEMORY_SET / "docs"
TARGET_RATIO = 0.8
TARGET_NOOP_S = 5.0
TARGET_PEAK_MB = 2048
SMALL_FILES = 1000


def rag_command() -> list[str]:
    exe = Path(sys.executable).parent / "rag"
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "rag_cli"]


def corpus_chunks(pipeline: IngestPipeline, corpus: Path) -> tuple[list[str], dict[str, float], int]:
    """The chunk texts the pipeline would embed for the corpus, and how long loading/chunking took.
    Also counts the summaries whose text is exactly one of their document's chunk texts."""
    found = walk([corpus])
    texts: list[str] = []
    timings = {"load_s": 0.0, "chunk_s": 0.0, "summary_s": 0.0, "summary_equals_a_chunk": 0}
    docs = 0
    for f in found:
        t0 = time.perf_counter()
        try:
            doc = load_file(f.path)
        except DocumentError:
            continue
        t1 = time.perf_counter()
        drafts = pipeline.chunker.split(doc)
        t2 = time.perf_counter()
        summary = pipeline.summarizer.summarize(doc, drafts) if drafts else ""
        docs += bool(drafts)
        t3 = time.perf_counter()
        timings["load_s"] += t1 - t0
        timings["chunk_s"] += t2 - t1
        timings["summary_s"] += t3 - t2
        chunk_texts = [embedding_text(doc.title, d.section, d.text) for d in drafts]
        timings["summary_equals_a_chunk"] += summary in chunk_texts
        texts += chunk_texts
    return texts, timings, docs


def embed_rate(pipeline: IngestPipeline, texts: list[str]) -> dict[str, float]:
    t0, c0 = time.perf_counter(), time.process_time()
    pipeline.embedder.embed_array(texts)
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    return {"seconds": seconds, "cpu_s": cpu, "chunks_per_s": len(texts) / seconds}


def write_small_files(folder: Path, count: int) -> None:
    for i in range(count):
        sub = folder / f"group{i // 100:02d}"
        sub.mkdir(parents=True, exist_ok=True)
        (sub / f"note{i:04d}.md").write_text(
            f"# Note {i}\n\nThis is small file number {i}. It mentions project {i % 37} and team {i % 11}.\n",
            encoding="utf-8",
        )


def timed_cli(args: list[str], env: dict[str, str]) -> tuple[float, dict[str, Any], int]:
    t0 = time.perf_counter()
    proc = subprocess.run([*rag_command(), *args], capture_output=True, text=True, env=env, check=False)
    seconds = time.perf_counter() - t0
    report = (
        json.loads(proc.stdout) if proc.stdout.strip().startswith("{") else {"stderr": proc.stderr[-500:]}
    )
    return seconds, report, proc.returncode


def peak_memory(path: Path, env: dict[str, str]) -> dict[str, Any]:
    """Run `rag ingest PATH` in a child process; its own RSS high-water mark from wait4."""
    t0 = time.perf_counter()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(
            [*rag_command(), "ingest", str(path), "--collection", "memory", "--json"],
            stdout=out,
            stderr=err,
            env=env,
        )
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    report = json.loads(stdout) if stdout.strip().startswith(b"{") else {}
    return {
        "stderr_tail": stderr.decode(errors="replace")[-1000:] if proc.returncode else "",
        "path": str(path),
        "peak_rss_mb": usage.ru_maxrss / 1024,  # Linux reports KiB
        "seconds": time.perf_counter() - t0,
        "exit": proc.returncode,
        "documents": report.get("documents"),
        "chunks": report.get("chunks"),
        "files": report.get("files"),
    }


def ingest_with_retries(
    pipeline: IngestPipeline, paths: list[Path], collection: str
) -> tuple[Any, list[str]]:
    """Run an ingest; if the run itself crashes, record why and run it again (it resumes incrementally)."""
    crashes: list[str] = []
    for _ in range(3):
        try:
            return pipeline.run(paths, collection), crashes
        except Exception as exc:
            crashes.append(f"{type(exc).__name__}: {' '.join(str(exc).split())[:300]}")
            print(f"    ingest crashed ({crashes[-1][:120]}); running it again")
    raise RuntimeError(f"ingest crashed {len(crashes)} times: {crashes}")


def breakdown(components: Components, corpus: Path, profile: Path | None) -> dict[str, Any]:
    """Where the pipeline's main thread spends its time, by wrapping the real embedder and index."""
    pipeline = components.ingest_pipeline()
    spent = {"embed_s": 0.0, "write_s": 0.0, "embedded_texts": 0}
    embed, write = pipeline.embedder.embed_array, pipeline.index.write

    def timed_embed(texts, **kw):  # type: ignore[no-untyped-def]
        t0 = time.perf_counter()
        try:
            return embed(texts, **kw)
        finally:
            spent["embed_s"] += time.perf_counter() - t0
            spent["embedded_texts"] += len(texts)

    def timed_write(*args, **kw):  # type: ignore[no-untyped-def]
        t0 = time.perf_counter()
        try:
            return write(*args, **kw)
        finally:
            spent["write_s"] += time.perf_counter() - t0

    pipeline.embedder.embed_array = timed_embed  # type: ignore[method-assign]
    pipeline.index.write = timed_write  # type: ignore[method-assign]
    profiler = cProfile.Profile() if profile else None
    try:
        if profiler:
            profiler.enable()
        report, crashes = ingest_with_retries(pipeline, [corpus], f"breakdown-{uuid.uuid4().hex[:6]}")
        if profiler:
            profiler.disable()
    finally:
        del pipeline.embedder.embed_array, pipeline.index.write
    total = report.seconds
    result = {
        **spent,
        "crashes": crashes,
        "total_s": total,
        "chunks": report.new_chunks,
        "other_main_thread_s": total - spent["embed_s"] - spent["write_s"],
    }
    if profiler and profile:
        profiler.dump_stats(str(profile))
        stats = pstats.Stats(profiler).sort_stats("cumulative")
        print(f"\ncProfile of the pipeline's main thread (saved to {profile}), top 25 by cumulative time:")
        stats.print_stats(25)
    return result


def throughput(pipeline: IngestPipeline, corpus: Path, results: dict[str, Any]) -> None:
    pipeline.embedder.embed_array(["warm up the model"] * 4)
    texts, prep, docs = corpus_chunks(pipeline, corpus)
    results["corpus_chunks"] = {"documents": docs, "chunks": len(texts), **prep}
    print(
        f"corpus: {docs} documents, {len(texts)} chunks; load {prep['load_s']:.1f} s, "
        f"chunk {prep['chunk_s']:.1f} s, extractive summaries {prep['summary_s']:.1f} s"
    )
    raw1 = embed_rate(pipeline, texts)
    print(f"(a) embedder alone:   {raw1['chunks_per_s']:.1f} chunks/s ({raw1['seconds']:.1f} s)")
    c0 = time.process_time()
    report, crashes = ingest_with_retries(pipeline, [corpus], "bench")
    pipeline_cpu = time.process_time() - c0
    rate = report.new_chunks / report.seconds
    print(f"(b) ingest pipeline:  {rate:.1f} chunks/s ({report.new_chunks} chunks, {report.seconds:.1f} s)")
    raw2 = embed_rate(pipeline, texts)
    print(f"(a) embedder again:   {raw2['chunks_per_s']:.1f} chunks/s ({raw2['seconds']:.1f} s)")
    raw = (raw1["chunks_per_s"] + raw2["chunks_per_s"]) / 2
    raw_cpu = (raw1["cpu_s"] + raw2["cpu_s"]) / 2
    ratio, cpu_ratio = rate / raw, raw_cpu / pipeline_cpu
    print(
        f"    (b)/(a) = {ratio:.2f} by wall time, {cpu_ratio:.2f} by CPU time "
        f"(embedder {raw_cpu:.1f} CPU s, pipeline {pipeline_cpu:.1f} CPU s; target >= {TARGET_RATIO})"
    )
    print(f"    summaries identical to one of their chunk texts: {prep['summary_equals_a_chunk']} of {docs}")
    results["embedder"] = {"runs": [raw1, raw2], "chunks_per_s": raw, "cpu_s": raw_cpu}
    results["pipeline"] = {
        "chunks_per_s": rate,
        "seconds": report.seconds,
        "cpu_s": pipeline_cpu,
        "chunks": report.new_chunks,
        "files": report.to_json()["files"],
        "crashes": crashes,
    }
    results["ratio"] = ratio
    results["ratio_cpu"] = cpu_ratio


def noop(pipeline: IngestPipeline, corpus: Path, root: Path, count: int, results: dict[str, Any]) -> None:
    again = pipeline.run([corpus], "bench")
    print(f"(c) no-op re-ingest of the corpus ({again.count('unchanged')} files): {again.seconds:.2f} s")
    small = root / "small"
    write_small_files(small, count)
    first, crashes = ingest_with_retries(pipeline, [small], "small")
    repeat = pipeline.run([small], "small")
    cli_s, cli_report, cli_exit = timed_cli(
        ["ingest", str(small), "--collection", "small", "--json"], dict(os.environ)
    )
    print(
        f"    {count} small files: first ingest {first.seconds:.1f} s; no-op re-ingest "
        f"{repeat.seconds:.2f} s in process, {cli_s:.2f} s via `rag ingest` (target < {TARGET_NOOP_S} s)"
    )
    results["noop"] = {
        "corpus_s": again.seconds,
        "corpus_unchanged": again.count("unchanged"),
        "small_files": count,
        "small_first_ingest_s": first.seconds,
        "small_first_ingest_crashes": crashes,
        "small_noop_in_process_s": repeat.seconds,
        "small_noop_unchanged": repeat.count("unchanged"),
        "small_noop_cli_s": cli_s,
        "small_noop_cli_exit": cli_exit,
        "small_noop_cli_files": cli_report.get("files"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("corpus", nargs="?", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--json", type=Path, help="write the results to this file")
    parser.add_argument("--memory-set", type=Path, default=DEFAULT_MEMORY_SET, help="ingested for (d)")
    parser.add_argument("--small-files", type=int, default=SMALL_FILES)
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument(
        "--phases",
        default="throughput,noop,memory",
        help="comma list of: throughput, noop, breakdown, memory",
    )
    parser.add_argument("--breakdown", action="store_true", help="time embed/write/wait inside the pipeline")
    parser.add_argument("--profile", type=Path, help="cProfile the breakdown ingest into this file")
    parser.add_argument("--keep", action="store_true", help="keep the temporary data dirs")
    args = parser.parse_args()

    root = Path(tempfile.mkdtemp(prefix="ingest-bench-"))
    os.environ["RAG_DATA_DIR"] = str(root / "data")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    settings = load_settings()
    components = Components(settings)
    pipeline = components.ingest_pipeline()
    results: dict[str, Any] = {
        "corpus": str(args.corpus),
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
        },
        "settings": {
            "embedder": pipeline.embedder.model_name,
            "batch_size": settings.embedding.batch_size,
            "chunking": settings.chunking.model_dump(),
            "summary": settings.summary.strategy,
            "write_batch": settings.ingest.write_batch,
        },
        "load_average_start": os.getloadavg(),
        "errors": {},
    }

    def phase(name: str, work: Any) -> None:
        try:
            work()
        except Exception as exc:  # a benchmark reports a failure and goes on with the next measurement
            results["errors"][name] = f"{type(exc).__name__}: {' '.join(str(exc).split())[:500]}"
            print(f"{name}: FAILED: {results['errors'][name]}")

    try:
        phases = set(args.phases.split(","))
        if args.breakdown or args.profile:
            phases.add("breakdown")
        if args.skip_memory:
            phases.discard("memory")
        if "throughput" in phases:
            phase("throughput", lambda: throughput(pipeline, args.corpus, results))
        if "noop" in phases:
            phase("noop", lambda: noop(pipeline, args.corpus, root, args.small_files, results))
        if "breakdown" in phases:

            def run_breakdown() -> None:
                b = results["breakdown"] = breakdown(components, args.corpus, args.profile)
                print(
                    f"    breakdown: total {b['total_s']:.1f} s = embed {b['embed_s']:.1f} s "
                    f"({b['embedded_texts']} texts for {b['chunks']} chunks) + write {b['write_s']:.1f} s "
                    f"+ other main-thread time {b['other_main_thread_s']:.1f} s (waiting for loading, triage)"
                )

            phase("breakdown", run_breakdown)
        if "memory" in phases:

            def run_memory() -> None:
                mem_env = {**os.environ, "RAG_DATA_DIR": str(root / "memory-data")}
                memory = results["memory"] = peak_memory(args.memory_set, mem_env)
                print(
                    f"(d) peak RSS of `rag ingest {args.memory_set}`: {memory['peak_rss_mb']:.0f} MB "
                    f"({memory['seconds']:.0f} s, exit {memory['exit']}, {memory['chunks']} chunks; "
                    f"target < {TARGET_PEAK_MB} MB)"
                )

            phase("memory", run_memory)
        results["load_average_end"] = os.getloadavg()
    finally:
        components.catalog.close()
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
        if args.json:
            args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
