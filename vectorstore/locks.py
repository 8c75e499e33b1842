"""One writer per collection at a time, across processes sharing the data dir."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

from rag_core.errors import BackendUnavailable


@contextmanager
def writer_lock(data_dir: Path, key: str, *, timeout: float = 600) -> Iterator[None]:
    lock_dir = data_dir / "locks"
    lock_dir.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(lock_dir / f"{key}.lock"))
    try:
        lock.acquire(timeout=timeout)
    except Timeout:
        raise BackendUnavailable(
            f"another process has been writing to this collection for over {timeout:.0f} s",
            hint="wait for the other ingest to finish, or stop it",
        ) from None
    try:
        yield
    finally:
        lock.release()
