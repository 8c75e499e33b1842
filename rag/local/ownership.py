"""Who may open the embedded Chroma of a data dir: a running `rag serve` holds `server.lock` exclusively
for its whole life; a CLI command working in-process holds it too (shared for reads, exclusive for
writes). The kernel drops a lock when its process dies, `kill -9` included, so a lock is never stale.

    lock = DataDirLock(data_dir)
    if lock.try_acquire(exclusive=False):    # no server owns the data dir: work in-process
        ...
        lock.release()
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from rag_core.errors import ConfigError

LOCK_NAME = "server.lock"


class DataDirLock:
    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / LOCK_NAME
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def try_acquire(self, *, exclusive: bool) -> bool:
        """Take the lock without waiting; False when another process holds it in a conflicting mode."""
        return self._acquire(exclusive=exclusive, wait=False)

    def acquire(self, *, exclusive: bool) -> None:
        """Take the lock, waiting as long as it takes."""
        self._acquire(exclusive=exclusive, wait=True)

    def _acquire(self, *, exclusive: bool, wait: bool) -> bool:
        if self._fd is not None:
            return True
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise ConfigError(
                f"cannot open {self.path}: {exc.strerror or exc}",
                hint="check that RAG_DATA_DIR points at a folder you can write to",
            ) from None
        mode = fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH
        try:
            fcntl.flock(fd, mode if wait else mode | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd
        return True

    def release(self) -> None:
        if self._fd is not None:
            fd, self._fd = self._fd, None
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)
