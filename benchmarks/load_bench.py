"""Load on a real `rag serve`: N concurrent clients for D seconds per mode; errors, latency, server memory.

    .venv/bin/python benchmarks/load_bench.py [--clients 16] [--duration 60] [--modes retrieval,answer]
                                              [--corpus samples] [--warmup 10] [--replicas 1] [--json FILE]

`--replicas N` starts N `rag serve` processes as N hosts would run them: each with its own data dir, all
on the PostgreSQL and Chroma servers of RAG_DATABASE__URL and RAG_CHROMA__URL (both required); client i
sends to replica i mod N, and memory is the sum of the replicas'.

In one run, with the configured settings (`RAG_*`, models included) and a fresh temporary data dir:
1. `rag ingest CORPUS` (default: the sample documents), then `rag serve` on a free loopback port in a
   child process; the script waits for `/readyz` (embedder and LLM loaded).
2. For each mode, `--warmup` seconds of the same load (not measured), then `--clients` asyncio clients
   (httpx) each send `POST /v1/query` back to back for `--duration` seconds, cycling through a fixed list
   of questions (answerable and not, English and Chinese). Modes: `retrieval` sends
   `options.retrieval_only` (search: rewrite, retrieve, rerank, compress), `answer` generates full
   answers with the LLM. Requests started before the deadline are awaited and counted.
3. The server's RSS (psutil, its process tree) is sampled every 0.5 s during each measured window.

Reported per mode: requests, errors (non-200 or transport errors; must be 0), throughput, latency
p50/p95/p99/max, refusals, and RSS first/last/min/max with the least-squares slope (MB per minute) and the
difference between the mean of the last and the first quarter of the window. Memory counts as flat when
the last quarter's mean is at most max(25 MB, 2%) above the first quarter's (after the warm-up load).
Exit status 1 when a mode had errors or memory grew.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psutil

REPO = Path(__file__).resolve().parents[1]
QUESTIONS = [
    "How long does the NR-7 run on one charge?",
    "How many vacation days do full-time employees earn per year?",
    "What payload can the NR-7 carry?",
    "What are the core working hours?",
    "How quickly does the NR-7 stop when a person steps into its path?",
    "What changed in firmware version 4.2?",
    "How many days per week may employees work remotely?",
    "国内出差住宿费每晚不超过多少钱？",
    "What is the price of the NR-7?",
    "Who founded Northwind Robotics?",
]
FLAT_GROWTH_MB = 25.0  # net growth allowed between the first and the last quarter of a window
FLAT_RELATIVE = 0.02  # or 2% of the first quarter's mean, whichever is larger


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def rag_command(*args: str) -> list[str]:
    exe = Path(sys.executable).parent / "rag"
    return [str(exe), *args] if exe.exists() else [sys.executable, "-m", "rag_cli", *args]


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = (len(ordered) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def slope_per_minute(samples: list[tuple[float, int]]) -> float:
    """Least-squares slope of RSS over time, in MB per minute."""
    if len(samples) < 2:
        return 0.0
    ts = [t for t, _ in samples]
    ms = [r / 2**20 for _, r in samples]
    mt, mm = statistics.fmean(ts), statistics.fmean(ms)
    den = sum((t - mt) ** 2 for t in ts) or 1.0
    return 60 * sum((t - mt) * (m - mm) for t, m in zip(ts, ms, strict=True)) / den


def tree_rss(pid: int) -> int:
    try:
        proc = psutil.Process(pid)
        procs = [proc, *proc.children(recursive=True)]
        return sum(p.memory_info().rss for p in procs if p.is_running())
    except psutil.Error:
        return 0


@dataclass
class ModeResult:
    mode: str
    clients: int
    duration_s: float
    requests: int = 0
    errors: int = 0
    error_samples: list[str] = field(default_factory=list)
    refused: int = 0
    latencies: list[float] = field(default_factory=list)
    rss: list[tuple[float, int]] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        rss_mb = [r / 2**20 for _, r in self.rss]
        quarter = max(1, len(rss_mb) // 4)
        first_q = statistics.fmean(rss_mb[:quarter]) if rss_mb else 0.0
        last_q = statistics.fmean(rss_mb[-quarter:]) if rss_mb else 0.0
        slope = slope_per_minute(self.rss)
        flat = last_q - first_q <= max(FLAT_GROWTH_MB, FLAT_RELATIVE * first_q)
        return {
            "mode": self.mode,
            "clients": self.clients,
            "duration_s": round(self.duration_s, 1),
            "requests": self.requests,
            "errors": self.errors,
            "error_samples": self.error_samples[:5],
            "throughput_rps": round(self.requests / self.duration_s, 2) if self.duration_s else 0.0,
            "refused": self.refused,
            "latency_s": {
                "p50": round(percentile(self.latencies, 0.50), 3),
                "p95": round(percentile(self.latencies, 0.95), 3),
                "p99": round(percentile(self.latencies, 0.99), 3),
                "max": round(max(self.latencies, default=float("nan")), 3),
            },
            "rss_mb": {
                "samples": len(rss_mb),
                "first": round(rss_mb[0], 1) if rss_mb else None,
                "last": round(rss_mb[-1], 1) if rss_mb else None,
                "min": round(min(rss_mb), 1) if rss_mb else None,
                "max": round(max(rss_mb), 1) if rss_mb else None,
                "first_quarter_mean": round(first_q, 1),
                "last_quarter_mean": round(last_q, 1),
                "slope_mb_per_min": round(slope, 2),
                "flat": flat,
                "series": [[round(t, 1), round(r / 2**20, 1)] for t, r in self.rss[::10]],  # every ~5 s
            },
        }


async def drive(
    urls: list[str],
    pids: list[int],
    mode: str,
    clients: int,
    duration: float,
    measure: bool,
    unique: bool = False,
) -> ModeResult:
    result = ModeResult(mode, clients, duration)
    stop_at = time.monotonic() + duration
    options = {"retrieval_only": mode == "retrieval"}

    async def client(i: int, http: httpx.AsyncClient) -> None:
        n = i
        while time.monotonic() < stop_at:
            question = QUESTIONS[n % len(QUESTIONS)]
            if unique:  # every prompt differs (no two requests share a cached prompt)
                question = f"{question} (request {n})"
            n += clients
            started = time.perf_counter()
            try:
                response = await http.post("/v1/query", json={"question": question, "options": options})
                took = time.perf_counter() - started
                if response.status_code != 200:
                    result.errors += 1
                    result.error_samples.append(f"{response.status_code}: {response.text[:200]}")
                else:
                    result.refused += bool(response.json().get("refused"))
            except httpx.HTTPError as exc:
                took = time.perf_counter() - started
                result.errors += 1
                result.error_samples.append(f"{type(exc).__name__}: {exc}")
            result.requests += 1
            result.latencies.append(took)

    done = asyncio.Event()

    async def sampler() -> None:  # until the last request returned
        start = time.monotonic()
        while not done.is_set():
            result.rss.append((time.monotonic() - start, sum(tree_rss(pid) for pid in pids)))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(done.wait(), 0.5)

    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    began = time.monotonic()
    async with contextlib.AsyncExitStack() as stack:
        https = [
            await stack.enter_async_context(httpx.AsyncClient(base_url=url, timeout=900, limits=limits))
            for url in urls
        ]
        watcher = asyncio.create_task(sampler()) if measure else None
        await asyncio.gather(*(client(i, https[i % len(https)]) for i in range(clients)))
        done.set()
        if watcher is not None:
            await watcher
    result.duration_s = time.monotonic() - began
    return result


def wait_ready(url: str, proc: subprocess.Popen[bytes], timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"rag serve exited with {proc.returncode}")
        try:
            if httpx.get(url + "/readyz", timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise RuntimeError("rag serve did not become ready")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--duration", type=float, default=60.0, help="measured seconds per mode")
    parser.add_argument("--warmup", type=float, default=10.0, help="unmeasured seconds of load per mode")
    parser.add_argument("--modes", default="retrieval,answer")
    parser.add_argument("--corpus", type=Path, default=REPO / "samples")
    parser.add_argument("--unique", action="store_true", help="make every question distinct")
    parser.add_argument("--replicas", type=int, default=1, help="rag serve processes (hosts), see above")
    parser.add_argument("--json", type=Path, help="write the results here")
    args = parser.parse_args()
    shared = ("RAG_DATABASE__URL", "RAG_CHROMA__URL")
    if args.replicas > 1 and not all(os.environ.get(name) for name in shared):
        parser.error(f"--replicas {args.replicas} needs {' and '.join(shared)}: the servers replicas share")

    with tempfile.TemporaryDirectory(prefix="rag-load-") as tmp:
        data_dir = Path(tmp) / "data"
        env = {
            **os.environ,
            "RAG_DATA_DIR": str(data_dir),
            "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1",
        }
        subprocess.run(
            rag_command("ingest", str(args.corpus), "--json"), env=env, check=True, stdout=subprocess.DEVNULL
        )
        urls, procs = [], []
        log = (Path(tmp) / "serve.log").open("wb")
        for replica in range(args.replicas):
            port = free_port()
            urls.append(f"http://127.0.0.1:{port}")
            own = env if replica == 0 else {**env, "RAG_DATA_DIR": str(Path(tmp) / f"data-{replica}")}
            procs.append(
                subprocess.Popen(
                    rag_command("serve", "--port", str(port), "--log-level", "warning"),
                    env=own,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                )
            )
        results: list[dict[str, Any]] = []
        try:
            for url, proc in zip(urls, procs, strict=True):
                wait_ready(url, proc)
            ready_rss = sum(tree_rss(proc.pid) for proc in procs)
            for mode in [m.strip() for m in args.modes.split(",") if m.strip()]:
                load = (urls, [proc.pid for proc in procs], mode, args.clients)
                if args.warmup > 0:
                    asyncio.run(drive(*load, args.warmup, False, args.unique))
                load_before = os.getloadavg()[0]
                result = asyncio.run(drive(*load, args.duration, True, args.unique))
                summary = result.summary()
                summary["loadavg_1min"] = [round(load_before, 2), round(os.getloadavg()[0], 2)]
                summary["server_alive"] = all(proc.poll() is None for proc in procs)
                results.append(summary)
                print(json.dumps(summary), flush=True)
        finally:
            for proc in procs:
                proc.terminate()
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
            log.close()

    report = {
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "settings": {
            "clients": args.clients,
            "duration_s": args.duration,
            "warmup_s": args.warmup,
            "corpus": str(args.corpus),
            "replicas": args.replicas,
            "database": "postgresql" if os.environ.get("RAG_DATABASE__URL") else "sqlite",
            "ready_rss_mb": round(ready_rss / 2**20, 1),
        },
        "modes": results,
    }
    print_table(results)
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n")
    bad = [r for r in results if r["errors"] or not r["rss_mb"]["flat"] or not r["server_alive"]]
    return 1 if bad else 0


def print_table(results: list[dict[str, Any]]) -> None:
    print()
    print(
        "| mode | requests | errors | req/s | p50 s | p95 s | RSS first/last/max MB | slope MB/min | flat |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for r in results:
        m = r["rss_mb"]
        print(
            f"| {r['mode']} | {r['requests']} | {r['errors']} | {r['throughput_rps']} | "
            f"{r['latency_s']['p50']} | {r['latency_s']['p95']} | {m['first']}/{m['last']}/{m['max']} | "
            f"{m['slope_mb_per_min']} | {'yes' if m['flat'] else 'no'} |"
        )


if __name__ == "__main__":
    sys.exit(main())
