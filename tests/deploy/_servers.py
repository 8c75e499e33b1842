"""Deployment test helpers: a real `chroma run` server that a test can kill and start again (same port, same
data path), and real `rag serve` / `rag` CLI processes pointed at it.

    server = ChromaServer(tmp_path / "chroma")        # free port, own data path
    server.start(); server.kill(); server.start()      # a restart keeps the port and the data
    with RagServer(env) as api: httpx.get(api.url + "/healthz")
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

import httpx
import pytest

from tests.helpers import rag_executable

SERVER_START_S = 90
API_START_S = 180


def chroma_binary() -> str | None:
    local = Path(sys.executable).parent / "chroma"
    return str(local) if local.exists() else shutil.which("chroma")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _stop(proc: subprocess.Popen[bytes], *, kill: bool = False) -> None:
    """Stop one process we started, by its pid: SIGKILL, or SIGTERM then SIGKILL after 15 s."""
    if proc.poll() is not None:
        return
    if kill:
        proc.kill()
    else:
        proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


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
        deadline = time.monotonic() + SERVER_START_S
        while True:
            if self.proc.poll() is not None:
                pytest.fail(
                    f"chroma run exited with {self.proc.returncode}: {self.log_path.read_text()[-2000:]}"
                )
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.url}/api/v2/heartbeat", timeout=2).status_code == 200:
                    return self
            if time.monotonic() > deadline:
                pytest.fail(
                    f"chroma run did not answer within {SERVER_START_S} s: {self.log_path.read_text()}"
                )
            time.sleep(0.2)

    def kill(self) -> None:
        if self.proc is not None:
            _stop(self.proc, kill=True)

    def stop(self) -> None:
        if self.proc is not None:
            _stop(self.proc)


def rag_env(data_dir: Path, chroma_url: str, **extra: str) -> dict[str, str]:
    """The environment of a `rag` process: this test's RAG_* settings on top of the parent's (which
    tests/conftest.py has already cleaned of the developer's RAG_* variables)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    env.update(
        {
            "RAG_DATA_DIR": str(data_dir),
            "RAG_CHROMA__URL": chroma_url,
            "RAG_LLM__THREADS": "1",
            "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1",
            "ANONYMIZED_TELEMETRY": "False",
            "TOKENIZERS_PARALLELISM": "false",
            "OMP_NUM_THREADS": "1",
        }
    )
    env.update(extra)
    return env


def run_rag(
    args: list[str], env: Mapping[str, str], *, timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    """Run the installed `rag` CLI to completion."""
    return subprocess.run(
        [str(rag_executable()), *args],
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


class RagServer:
    """`rag serve` in a subprocess on a free loopback port; ready when /healthz answers."""

    def __init__(self, env: Mapping[str, str], log_path: Path, name: str = "api") -> None:
        self.env = dict(env)
        self.log_path = log_path
        self.name = name
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> RagServer:
        if self.proc is None:
            self.start()
        return self.wait_ready()

    def start(self) -> RagServer:
        """Spawn the process without waiting (start several, then `wait_ready` each)."""
        with self.log_path.open("wb") as log:
            self.proc = subprocess.Popen(
                [str(rag_executable()), "serve", "--port", str(self.port), "--log-level", "warning"],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        return self

    def wait_ready(self) -> RagServer:
        assert self.proc is not None
        deadline = time.monotonic() + API_START_S
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name}: rag serve exited with {self.proc.returncode}: {self.log()}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200:
                    return self
            if time.monotonic() > deadline:
                self.__exit__()
                raise RuntimeError(
                    f"{self.name}: rag serve did not answer within {API_START_S} s: {self.log()}"
                )
            time.sleep(0.25)

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None:
            _stop(self.proc)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-3000:] if self.log_path.exists() else ""

    def client(self, timeout: float = 300) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=timeout)
