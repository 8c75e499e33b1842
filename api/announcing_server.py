"""uvicorn, announcing the server in its data dir once it listens and withdrawing it on a clean stop.

announcement = Announcement.new("")                  # its url is filled in once the port is known
app = create_app(settings, local_token=announcement.token)
serve_announced(app, settings.data_dir, announcement, host="127.0.0.1", port=8000)
"""

from __future__ import annotations

import dataclasses
import logging
import socket
from pathlib import Path
from typing import Any

import uvicorn

from rag.local.announcement import Announcement, remove_announcement, write_announcement
from rag.local.serving import client_url

log = logging.getLogger("rag.api")


class AnnouncingServer(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, data_dir: Path, announcement: Announcement) -> None:
        super().__init__(config)
        self.data_dir = data_dir
        self.announcement = announcement

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.should_exit:
            return
        port = self._bound_port() or self.config.port
        self.announcement = dataclasses.replace(self.announcement, url=client_url(self.config.host, port))
        write_announcement(self.data_dir, self.announcement)
        log.info("announced in %s", self.data_dir)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        # withdrawn first: uvicorn re-raises SIGTERM/SIGINT once it has stopped, ending the process
        remove_announcement(self.data_dir, self.announcement.pid)
        await super().shutdown(sockets)

    def _bound_port(self) -> int | None:
        for server in getattr(self, "servers", []):
            for sock in server.sockets or ():
                return int(sock.getsockname()[1])
        return None


def serve_announced(
    app: Any, data_dir: Path, announcement: Announcement, *, host: str, port: int, log_level: str
) -> None:
    config = uvicorn.Config(app, host=host, port=port, log_level=log_level, timeout_graceful_shutdown=5)
    server = AnnouncingServer(config, data_dir, announcement)
    try:
        server.run()
    finally:
        remove_announcement(data_dir, announcement.pid)
