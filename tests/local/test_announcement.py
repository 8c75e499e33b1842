"""The announcement file, the data dir lock and live-server discovery, with real files, processes and
sockets (no server answers here: the end-to-end tests are in tests/deploy/test_cli_beside_server.py)."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from rag.local.announcement import (
    Announcement,
    announcement_path,
    pid_alive,
    read_announcement,
    remove_announcement,
    write_announcement,
)
from rag.local.discovery import hold_for_in_process, live_server, server_or_in_process
from rag.local.ownership import DataDirLock
from rag.local.serving import client_url, own_data_dir
from rag_core.errors import BackendUnavailable, ConfigError
from rag_core.settings import Settings
from tests.servers import free_port


def dead_pid() -> int:
    proc = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    return int(proc.stdout)


def test_the_announcement_is_private_and_whole(tmp_path: Path) -> None:
    announcement = Announcement.new("http://127.0.0.1:8000")
    path = write_announcement(tmp_path / "data", announcement)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert read_announcement(tmp_path / "data") == announcement
    assert len(announcement.token) >= 32 and announcement.pid == os.getpid()
    assert [p.name for p in (tmp_path / "data").iterdir()] == ["server.json"]  # no temp file left


def test_a_broken_announcement_reads_as_none(tmp_path: Path) -> None:
    assert read_announcement(tmp_path) is None
    for text in ("", "{", "[]", json.dumps({"url": "x", "pid": "one"})):
        announcement_path(tmp_path).write_text(text)
        assert read_announcement(tmp_path) is None


def test_only_its_own_announcement_is_removed(tmp_path: Path) -> None:
    write_announcement(tmp_path, Announcement.new("http://127.0.0.1:1"))
    assert not remove_announcement(tmp_path, os.getpid() + 1)
    assert read_announcement(tmp_path) is not None
    assert remove_announcement(tmp_path, os.getpid())
    assert not announcement_path(tmp_path).exists()
    assert not remove_announcement(tmp_path)


def test_pid_alive() -> None:
    assert pid_alive(os.getpid())
    assert not pid_alive(dead_pid())
    assert not pid_alive(0)


def test_the_lock_keeps_writers_apart(tmp_path: Path) -> None:
    reader, other_reader, writer = DataDirLock(tmp_path), DataDirLock(tmp_path), DataDirLock(tmp_path)
    assert reader.try_acquire(exclusive=False)
    assert other_reader.try_acquire(exclusive=False)
    assert not writer.try_acquire(exclusive=True)
    reader.release()
    other_reader.release()
    assert writer.try_acquire(exclusive=True)
    assert not reader.try_acquire(exclusive=False)
    writer.release()


def test_a_stale_announcement_is_not_a_server(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    dead = Announcement(url="http://127.0.0.1:9", pid=dead_pid(), token="t", started=0.0)
    write_announcement(settings.data_dir, dead)
    assert live_server(settings) is None
    # a live pid that is no server of ours (nothing listens at the address)
    write_announcement(settings.data_dir, Announcement.new(f"http://127.0.0.1:{free_port()}"))
    assert live_server(settings) is None
    with server_or_in_process(settings, write=True) as server:
        assert server is None
        assert not DataDirLock(settings.data_dir).try_acquire(exclusive=False)  # held for in-process work
    assert DataDirLock(settings.data_dir).try_acquire(exclusive=True)


def test_a_server_start_removes_the_stale_announcement(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    dead = Announcement(url="http://127.0.0.1:9", pid=dead_pid(), token="t", started=0.0)
    write_announcement(settings.data_dir, dead)
    said: list[str] = []
    with own_data_dir(settings, said.append):
        assert read_announcement(settings.data_dir) is None
        assert not DataDirLock(settings.data_dir).try_acquire(exclusive=False)
    assert said == [f"removed the announcement of a server that is gone (pid {dead.pid})"]


def test_in_process_commands_wait_for_a_starting_server(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    with (
        own_data_dir(settings, print),  # the server holds the data dir but does not answer yet
        pytest.raises(BackendUnavailable, match=r"using .* for over 0 s"),
        server_or_in_process(settings, write=False, wait_s=0.0),
    ):
        pass


def test_in_process_only_commands_share_the_data_dir(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    first, second = hold_for_in_process(settings, "rag eval"), hold_for_in_process(settings, "rag eval")
    assert first is not None and second is not None and first.held and second.held
    assert not DataDirLock(settings.data_dir).try_acquire(exclusive=True)  # no server starts meanwhile
    first.release()
    second.release()


def test_client_url() -> None:
    assert client_url("0.0.0.0", 8000) == "http://127.0.0.1:8000"
    assert client_url("::", 8000) == "http://[::1]:8000"
    assert client_url("::1", 80) == "http://[::1]:80"
    assert client_url("127.0.0.1", 1) == "http://127.0.0.1:1"
    assert client_url("localhost", 1) == "http://localhost:1"


def test_a_data_dir_that_cannot_be_written_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(ConfigError, match="cannot open"):
        DataDirLock(blocker / "data").try_acquire(exclusive=False)
