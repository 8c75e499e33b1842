"""The file a running `rag serve` leaves in its data dir: where it listens, its pid, and a random local
credential that only processes able to read the data dir can present.

    ann = Announcement.new("http://127.0.0.1:8000")
    write_announcement(data_dir, ann)        # atomic, 0600
    read_announcement(data_dir)              # Announcement, or None (absent, unreadable, malformed)
    remove_announcement(data_dir, ann.pid)   # only if it is still ours
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import time
from dataclasses import asdict, dataclass
from pathlib import Path

FILE_NAME = "server.json"
TOKEN_HEADER = "X-Rag-Local-Token"


@dataclass(frozen=True, slots=True)
class Announcement:
    url: str
    pid: int
    token: str
    started: float

    @classmethod
    def new(cls, url: str) -> Announcement:
        return cls(url=url, pid=os.getpid(), token=secrets.token_urlsafe(32), started=time.time())


def announcement_path(data_dir: Path) -> Path:
    return data_dir / FILE_NAME


def write_announcement(data_dir: Path, announcement: Announcement) -> Path:
    """Write the file readable by its owner only, and atomically: a reader sees the whole file or none."""
    data_dir.mkdir(parents=True, exist_ok=True)
    path = announcement_path(data_dir)
    tmp = path.with_name(f".{FILE_NAME}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(asdict(announcement), out)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    return path


def read_announcement(data_dir: Path) -> Announcement | None:
    try:
        data = json.loads(announcement_path(data_dir).read_text(encoding="utf-8"))
        return Announcement(
            url=str(data["url"]),
            pid=int(data["pid"]),
            token=str(data["token"]),
            started=float(data["started"]),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def remove_announcement(data_dir: Path, pid: int | None = None) -> bool:
    """Remove the file; with `pid`, only when the file names that process. True if a file was removed."""
    path = announcement_path(data_dir)
    if pid is not None:
        current = read_announcement(data_dir)
        if current is not None and current.pid != pid:
            return False
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    return True


def pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
