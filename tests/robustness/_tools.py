"""Helpers for the robustness tests: generated corpora, the consistency checker in a fresh process, and
file-system snapshots (to prove nothing is written outside the data dir). Servers: tests/servers.py."""

from __future__ import annotations

import json
import os
import random
import re
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.helpers import REPO
from tests.servers import rag_env

WORDS = (
    "river plant sprocket battery charge vacuum helpdesk ledger invoice harbour engine glacier orchard "
    "lantern copper meadow signal archive compass falcon quarry timber velvet beacon cinder dune ember "
    "fjord granite hollow island juniper kelp lagoon marble nectar oasis pebble quartz reef saffron"
).split()


def inspect_data_dir(
    data_dir: Path, *, strict: bool = False, queries: tuple[str, ...] = (), timeout: float = 300
) -> dict[str, Any]:
    """The consistency report of `data_dir` (tests/robustness/consistency.py), computed in a fresh process."""
    args = [sys.executable, "-m", "tests.robustness.consistency", str(data_dir)]
    if strict:
        args.append("--strict")
    for q in queries:
        args += ["--query", q]
    result = subprocess.run(
        args, cwd=REPO, env=rag_env(data_dir), capture_output=True, text=True, timeout=timeout
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report: dict[str, Any] = json.loads(result.stdout)
    return report


def wait_for_writes(catalog: Path, alive: Callable[[], bool], writes: int, timeout: float = 300) -> int:
    """Block until the `writes`-th write protocol has begun (write intents appear in the catalog; polled
    every 2 ms), `alive()` turns false or `timeout` passes. Returns the number of writes seen."""
    deadline = time.monotonic() + timeout
    con = sqlite3.connect(catalog, timeout=30)
    try:
        seen, busy = 0, False
        while alive() and seen < writes and time.monotonic() < deadline:
            try:
                now_busy = con.execute("SELECT count(*) FROM intents").fetchone()[0] > 0
            except sqlite3.OperationalError:  # the catalog is still being created
                now_busy = False
            seen += now_busy and not busy
            busy = now_busy
            time.sleep(0.002)
        return seen
    finally:
        con.close()


# file-system snapshots --------------------------------------------------------------------------


def snapshot(root: Path, *, exclude: tuple[Path, ...] = ()) -> dict[str, tuple[int, int]]:
    """relative path -> (size, mtime_ns) of every file and folder under `root`, except under `exclude`."""
    skip = [p.resolve() for p in exclude]
    out: dict[str, tuple[int, int]] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        here = Path(dirpath).resolve()
        dirnames[:] = [d for d in dirnames if (here / d).resolve() not in skip]
        for name in [*filenames, *dirnames]:
            path = here / name
            try:
                st = path.lstat()
            except FileNotFoundError:
                continue
            out[str(path.relative_to(root.resolve()))] = (
                st.st_size,
                st.st_mtime_ns if name in filenames else 0,
            )
    return out


# Library caches that land in TMPDIR, not in the data dir: jieba's dictionary cache (about 9 MB, written
# once, when the first Chinese text is tokenised) and an empty `torchinductor_<user>` folder made by torch.
LIBRARY_CACHES = re.compile(r"(^|/)(jieba\.cache|torchinductor_[^/]*)(/|$)")


def changed(before: dict[str, tuple[int, int]], after: dict[str, tuple[int, int]]) -> list[str]:
    """Paths added, removed or modified between two snapshots, except the known library caches."""
    return sorted(
        k for k in set(before) | set(after) if before.get(k) != after.get(k) and not LIBRARY_CACHES.search(k)
    )


# a text corpus with revisions ---------------------------------------------------------------------


@dataclass
class Corpus:
    """Generated text files. Every revision of every file is remembered (content hash -> text), so a
    live document can be checked against the exact file version it was ingested from."""

    folder: Path
    rng: random.Random
    revisions: dict[str, int] = field(default_factory=dict)
    history: dict[str, dict[str, str]] = field(default_factory=dict)  # source -> content hash -> text
    next_id: int = 0

    def text(self, name: str, rev: int) -> str:
        rng = self.rng
        paragraphs = []
        for p in range(rng.randint(2, 5)):
            words = " ".join(rng.choice(WORDS) for _ in range(rng.randint(40, 90)))
            paragraphs.append(f"{name} revision {rev} paragraph {p}: {words}.")
        return f"Notes {name} rev{rev}\n\n" + "\n\n".join(paragraphs) + "\n"

    def write(self, name: str) -> Path:
        from ingest.pipeline import file_hash

        rev = self.revisions.get(name, -1) + 1
        self.revisions[name] = rev
        path = self.folder / f"{name}.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        text = self.text(name, rev)
        path.write_text(text, encoding="utf-8")
        self.history.setdefault(str(path.resolve()), {})[file_hash(path)] = text
        return path

    def add(self, count: int) -> list[Path]:
        paths = []
        for _ in range(count):
            paths.append(self.write(f"doc{self.next_id:03d}"))
            self.next_id += 1
        return paths

    def names(self) -> list[str]:
        return sorted(n for n in self.revisions if (self.folder / f"{n}.txt").exists())

    def mutate(self, *, change: float, remove: int, add: int) -> None:
        names = self.names()
        for name in self.rng.sample(names, max(1, int(len(names) * change))):
            self.write(name)
        for name in self.rng.sample(names, min(remove, len(names) - 1)):
            (self.folder / f"{name}.txt").unlink()
        self.add(add)

    def current(self) -> dict[str, str]:
        """source -> content hash of the files present now."""
        from ingest.pipeline import file_hash

        return {str(p.resolve()): file_hash(p) for p in sorted(self.folder.glob("*.txt"))}


def normalised(text: str) -> str:
    return " ".join(text.split())


def check_documents(report: dict[str, Any], history: dict[str, dict[str, str]]) -> list[str]:
    """Each live document is one whole, known version of its file: its chunks all come from that text."""
    problems = []
    for key, doc in report["documents"].items():
        versions = history.get(doc["source"])
        if versions is None or doc["content_hash"] not in versions:
            problems.append(f"{key}: live content hash of {doc['source']} matches no version ever written")
            continue
        text = normalised(versions[doc["content_hash"]])
        for chunk in doc["chunks"]:
            if normalised(chunk) not in text:
                problems.append(f"{key}: a chunk is not part of the version it claims: {chunk[:80]!r}")
        if not doc["chunks"]:
            problems.append(f"{key}: live with no chunks")
    return problems
