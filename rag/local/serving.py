"""The server's side of the data dir: `rag serve` owns it before it starts listening.

    with own_data_dir(settings, say=print):      # waits for in-process rag commands, refuses a 2nd server
        ...serve, announcing once listening...   # the stale announcement of a killed server is gone

With embedded Chroma the server holds the data dir lock exclusively while it runs: no CLI command opens
the embedded Chroma beside it (they go through the server instead). With a Chroma server
(`RAG_CHROMA__URL`) several servers may share one data dir (replicas) and nothing is locked.
"""

from __future__ import annotations

import ipaddress
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rag.local.announcement import pid_alive, read_announcement, remove_announcement
from rag.local.discovery import POLL_S, live_server
from rag.local.ownership import DataDirLock
from rag_core.errors import ConfigError
from rag_core.settings import Settings

Notice = Callable[[str], None]


def client_url(host: str, port: int) -> str:
    """The address a client on this machine uses to reach a server listening on `host`."""
    bare = host.strip("[]")
    if bare in ("", "0.0.0.0"):
        return f"http://127.0.0.1:{port}"
    if bare == "::":
        return f"http://[::1]:{port}"
    try:
        if ipaddress.ip_address(bare).version == 6:
            return f"http://[{bare}]:{port}"
    except ValueError:
        pass
    return f"http://{bare}:{port}"


def _already_served(settings: Settings) -> None:
    client = live_server(settings)
    if client is not None:
        raise ConfigError(
            f"{settings.data_dir} is already served by `rag serve` (pid {client.announcement.pid}) at "
            f"{client.url}",
            hint="use that server, or stop it first; several servers on one data dir need a Chroma "
            "server (RAG_CHROMA__URL, see docs/deploy.md)",
        )


def _remove_stale(settings: Settings, say: Notice) -> None:
    stale = read_announcement(settings.data_dir)
    if stale is None or stale.pid == os.getpid():
        return
    if settings.chroma.url and pid_alive(stale.pid):
        return  # a replica's announcement: it is alive (maybe starting); leave it
    if remove_announcement(settings.data_dir, stale.pid):
        say(f"removed the announcement of a server that is gone (pid {stale.pid})")


@contextmanager
def own_data_dir(settings: Settings, say: Notice) -> Iterator[None]:
    """Take the data dir for a server; raises ConfigError if another live server has it."""
    if settings.chroma.url:
        _remove_stale(settings, say)
        yield
        return
    _already_served(settings)
    lock = DataDirLock(settings.data_dir)
    told = False
    while not lock.try_acquire(exclusive=True):
        _already_served(settings)
        if not told:
            say(f"waiting for rag commands working in {settings.data_dir} to finish")
            told = True
        time.sleep(POLL_S)
    try:
        _remove_stale(settings, say)
        yield
    finally:
        lock.release()
