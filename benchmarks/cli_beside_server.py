"""What `rag ask` costs beside a running `rag serve`: the CLI's wall time against the server's own
answer time for the same question, and `rag ask` without a server (models loaded per call).

    .venv/bin/python benchmarks/cli_beside_server.py [--repeats 5] [--corpus samples] [--json FILE]

In a fresh temporary data dir, with the configured settings (`RAG_*`): `rag serve` on a free loopback
port (the script waits for /readyz: embedder and LLM loaded), `rag ingest CORPUS` through it, then for
each question and repeat, in turn: `POST /v1/query` from this process (the server's own time) and
`rag ask QUESTION --json` as a child process (through the server), in both modes (`retrieval`:
`--retrieval-only`; `answer`: the LLM answers). Overhead = CLI wall time minus the HTTP time of the same
question and mode in the same round (a fixed sampling seed gives both the same answer; one answer per
question first, not measured). Finally the server is stopped and `rag ask` runs in-process.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[1]
RAG = str(Path(sys.executable).parent / "rag")
QUESTIONS = [
    "How long does the NR-7 run on one charge?",
    "How many vacation days do employees get?",
    "What changed in the latest release?",
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def timed_cli(args: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    done = subprocess.run([RAG, *args], env=env, capture_output=True, text=True, check=False)
    took = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"rag {' '.join(args)} failed:\n{done.stderr}")
    return took


def timed_http(client: httpx.Client, question: str, retrieval_only: bool) -> float:
    body = {"question": question, "collection": "bench", "options": {"retrieval_only": retrieval_only}}
    started = time.perf_counter()
    response = client.post("/v1/query", json=body)
    took = time.perf_counter() - started
    response.raise_for_status()
    return took


def summary(values: list[float]) -> dict[str, float]:
    return {
        "median_s": round(statistics.median(values), 3),
        "min_s": round(min(values), 3),
        "max_s": round(max(values), 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--corpus", type=Path, default=REPO / "samples")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()

    root = Path(tempfile.mkdtemp(prefix="rag-cli-bench-"))
    # a fixed seed: the server gives the HTTP call and the CLI the same answer, so their times compare
    env = {**os.environ, "RAG_DATA_DIR": str(root / "data"), "RAG_LLM__SEED": "0"}
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = (root / "serve.log").open("wb")
    server = subprocess.Popen([RAG, "serve", "--port", str(port)], env=env, stdout=log, stderr=log)
    results: dict[str, Any] = {"repeats": args.repeats, "questions": len(QUESTIONS)}
    try:
        with httpx.Client(base_url=url, timeout=600) as client:
            deadline = time.monotonic() + 300
            while True:
                try:
                    if client.get("/readyz").status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline or server.poll() is not None:
                    raise SystemExit(f"rag serve did not get ready; see {root / 'serve.log'}")
                time.sleep(0.5)
            timed_cli(["ingest", str(args.corpus), "--collection", "bench", "--json"], env)
            timed_cli(["--help"], env)  # warm the file cache for the CLI's imports
            for question in QUESTIONS:  # first answers (caches, lazy loads) are not measured
                timed_http(client, question, False)
            for mode, retrieval_only in (("retrieval", True), ("answer", False)):
                extra = ["--retrieval-only"] if retrieval_only else []
                http_times, cli_times, overheads = [], [], []
                for _ in range(args.repeats):
                    for question in QUESTIONS:
                        http_s = timed_http(client, question, retrieval_only)
                        cli_s = timed_cli(["ask", question, "--collection", "bench", "--json", *extra], env)
                        http_times.append(http_s)
                        cli_times.append(cli_s)
                        overheads.append(cli_s - http_s)
                results[mode] = {
                    "server_http": summary(http_times),
                    "rag_ask_through_server": summary(cli_times),
                    "overhead": summary(overheads),
                }
            help_times = [timed_cli(["--help"], env) for _ in range(args.repeats)]
            results["rag_help"] = summary(help_times)
    finally:
        server.terminate()
        server.wait(timeout=60)
        log.close()
    in_process = [timed_cli(["ask", QUESTIONS[0], "--collection", "bench", "--json"], env) for _ in range(2)]
    results["rag_ask_in_process_answer"] = summary(in_process)
    text = json.dumps(results, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")


if __name__ == "__main__":
    main()
