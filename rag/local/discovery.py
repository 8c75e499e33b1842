"""Find the live `rag serve` of a data dir, or take the data dir for in-process work.

    with server_or_in_process(settings, write=True) as client:
        if client is not None:      # a live server: go through it over HTTP
            client.ingest(...)
        else:                       # no server: work in-process; no server can start until we are done
            Components(settings).ingest_pipeline().run(...)

A server is live when its announcement names a running process AND that process answers with the
announced pid to a call only the holder of the announced credential may make. Anything else (no file, a
process killed with kill -9, a pid reused by another program) is stale and ignored.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import httpx

from rag.local.announcement import pid_alive, read_announcement
from rag.local.client import LocalServerClient
from rag.local.ownership import DataDirLock
from rag_core.errors import BackendUnavailable, ConfigError
from rag_core.settings import Settings

WAIT_S = 600.0
POLL_S = 0.2
Notice = Callable[[str], None]


def live_server(settings: Settings) -> LocalServerClient | None:
    announcement = read_announcement(settings.data_dir)
    if announcement is None or not pid_alive(announcement.pid):
        return None
    client = LocalServerClient(announcement)
    try:
        who = client.whoami()
    except (httpx.HTTPError, ValueError):
        return None
    return client if who.get("pid") == announcement.pid else None


@contextmanager
def server_or_in_process(
    settings: Settings, *, write: bool, wait_s: float = WAIT_S, say: Notice | None = None
) -> Iterator[LocalServerClient | None]:
    """Yields a client of the live server, or None while this process may use the data dir itself.

    With embedded Chroma, in-process work holds the data dir lock (exclusive when `write`), so a server
    cannot start meanwhile; a server that is starting (lock held, not answering yet) is waited for."""
    lock = DataDirLock(settings.data_dir)
    deadline = time.monotonic() + wait_s
    told = False
    while True:
        client = live_server(settings)
        if client is not None:
            yield client
            return
        if settings.chroma.url:  # a Chroma server: any number of processes may use it at once
            yield None
            return
        if lock.try_acquire(exclusive=write):
            try:
                yield None
            finally:
                lock.release()
            return
        if time.monotonic() > deadline:
            raise BackendUnavailable(
                f"another process has been using {settings.data_dir} for over {wait_s:.0f} s",
                hint="a `rag serve` that is starting but does not answer, or another `rag ingest`: "
                "wait for it, or stop it",
            )
        if not told and say is not None:
            say(
                f"waiting for another process using {settings.data_dir} "
                "(a `rag serve` starting up, or another rag command)"
            )
            told = True
        time.sleep(POLL_S)


def hold_for_in_process(settings: Settings, command: str, *, say: Notice | None = None) -> DataDirLock | None:
    """For commands that only work in-process (`rag eval`): refuse beside a live server, else hold the
    data dir (shared: such commands may run side by side) until the returned lock is released or the
    process exits."""
    lock = DataDirLock(settings.data_dir)
    told = False
    while True:
        client = live_server(settings)
        if client is not None:
            raise ConfigError(
                f"{command} works in-process, and `rag serve` (pid {client.announcement.pid}) serves "
                f"{settings.data_dir}",
                hint="stop the server, or point RAG_DATA_DIR at another folder for this command",
            )
        if settings.chroma.url:
            return None
        if lock.try_acquire(exclusive=False):
            return lock
        if not told and say is not None:
            say(f"waiting for another process using {settings.data_dir}")
            told = True
        time.sleep(POLL_S)
