"""Real servers and `rag` child processes for the tests: `chroma run` and `rag serve`.

chroma = ChromaServer(tmp_path / "chroma").start()   # free port, own data path
chroma.kill(); chroma.start()                         # a restart keeps the port and the data
env = rag_env(tmp_path / "data", chroma.url, RAG_API__WARM_UP="false")
with RagServer(tmp_path / "api", env) as api:         # own cwd, HOME and TMPDIR under tmp_path/api
    httpx.get(api.url + "/healthz")
    api.kill9()
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.helpers import REPO, rag_executable

CHROMA_START_S = 90
API_START_S = 180


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def stop_process(proc: subprocess.Popen[Any], *, kill: bool = False, timeout: float = 30) -> None:
    """SIGKILL, or SIGTERM and SIGKILL after `timeout` seconds; a process that has exited is left alone."""
    if proc.poll() is not None:
        return
    if kill:
        proc.kill()
    else:
        proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def wait_until_up(url: str, proc: subprocess.Popen[Any], log: Path, timeout: float, what: str) -> None:
    """Poll `url` until it answers 200; fail with the log's tail when the process exits or time runs out."""
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}:\n{tail(log)}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, timeout=2).status_code == 200:
                return
        if time.monotonic() > deadline:
            stop_process(proc)
            raise RuntimeError(f"{what} did not answer within {timeout:.0f} s:\n{tail(log)}")
        time.sleep(0.2)


def tail(path: Path, chars: int = 5000) -> str:
    return path.read_text(errors="replace")[-chars:] if path.exists() else ""


def rag_env(data_dir: Path, chroma_url: str | None = None, **extra: str) -> dict[str, str]:
    """The environment of a `rag` child: none of the parent's RAG_* settings, this data dir (and Chroma
    server), offline models, one thread per library so that several processes share the cores."""
    # the embedder the test runs on (tests/conftest.py) is the only RAG_* setting a child inherits
    inherited = ("RAG_EMBEDDING__MODEL", "RAG_EMBEDDING__MODEL_DIR")
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_") or k in inherited}
    env.update(
        RAG_DATA_DIR=str(data_dir),
        RAG_LLM__THREADS="1",
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
        ANONYMIZED_TELEMETRY="False",
        TOKENIZERS_PARALLELISM="false",
        OMP_NUM_THREADS="1",
        PYTHONPATH=str(REPO),
    )
    if chroma_url:
        env["RAG_CHROMA__URL"] = chroma_url
    env.update(extra)
    return env


def rag_command(*args: str) -> list[str]:
    return [str(rag_executable()), *args]


def run_rag(
    args: list[str], env: Mapping[str, str], *, timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    """Run the installed `rag` CLI to completion."""
    return subprocess.run(
        rag_command(*args), env=dict(env), capture_output=True, text=True, timeout=timeout, check=False
    )


def chroma_binary() -> str | None:
    local = Path(sys.executable).parent / "chroma"
    return str(local) if local.exists() else shutil.which("chroma")


class ChromaServer:
    """`chroma run --path ROOT/data --port PORT`. `kill()` is a crash (SIGKILL); `start()` again reuses
    the port and the data path, as a restarted container would."""

    def __init__(self, root: Path, port: int | None = None) -> None:
        binary = chroma_binary()
        if binary is None:
            pytest.skip("the `chroma` CLI is not installed (it comes with the chromadb package)")
        self.binary = binary
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0

    @property
    def log_path(self) -> Path:
        return self.root / f"server-{self.starts}.log"

    def start(self) -> ChromaServer:
        assert self.proc is None or self.proc.poll() is not None, "already running"
        self.starts += 1
        with self.log_path.open("wb") as log:
            self.proc = subprocess.Popen(
                [self.binary, "run", "--path", str(self.root / "data"), "--port", str(self.port)],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        try:
            heartbeat = f"{self.url}/api/v2/heartbeat"
            wait_until_up(heartbeat, self.proc, self.log_path, CHROMA_START_S, "chroma run")
        except RuntimeError as exc:
            pytest.fail(str(exc))
        return self

    def kill(self) -> None:
        if self.proc is not None:
            stop_process(self.proc, kill=True)

    def stop(self) -> None:
        if self.proc is not None:
            stop_process(self.proc)


class RagServer:
    """`rag serve` in a child process on a free loopback port, with its own cwd, HOME and TMPDIR under
    `root` (so a test can check that nothing is written outside the data dir); its log is
    `root/serve-PORT.log`. Ready when /healthz answers."""

    def __init__(self, root: Path, env: Mapping[str, str], name: str = "rag serve") -> None:
        self.root = root
        self.name = name
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.cwd = root / "cwd"
        home, tmp = root / "home", root / "tmp"
        for d in (self.cwd, home, tmp):
            d.mkdir(parents=True, exist_ok=True)
        self.env = {**env, "HOME": str(home), "TMPDIR": str(tmp)}
        self.log_path = root / f"serve-{self.port}.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> RagServer:
        return self.wait_ready() if self.alive else self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self, *, wait: bool = True) -> RagServer:
        """Spawn the process; with `wait=False` return at once (start several, then `wait_ready` each)."""
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                rag_command("serve", "--port", str(self.port), "--log-level", "warning"),
                cwd=self.cwd,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        return self.wait_ready() if wait else self

    def wait_ready(self) -> RagServer:
        assert self.proc is not None
        wait_until_up(f"{self.url}/healthz", self.proc, self.log_path, API_START_S, self.name)
        return self

    def log(self) -> str:
        return tail(self.log_path)

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def healthy(self) -> bool:
        try:
            return self.alive and httpx.get(self.url + "/healthz", timeout=10).json()["status"] == "ok"
        except httpx.HTTPError:
            return False

    def rss(self) -> int:
        import psutil

        assert self.proc is not None
        return int(psutil.Process(self.proc.pid).memory_info().rss)

    def kill9(self) -> None:
        if self.proc is not None:
            stop_process(self.proc, kill=True)

    def stop(self) -> None:
        if self.proc is not None:
            stop_process(self.proc)

    def client(self, timeout: float = 300) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=timeout)

    def wait_job(self, client: httpx.Client, job_id: str, timeout: float = 600) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            job: dict[str, Any] = client.get(f"/v1/jobs/{job_id}").json()
            if job["status"] in ("done", "failed"):
                return job
            time.sleep(0.2)
        raise TimeoutError(f"job {job_id} did not finish in {timeout} s")
