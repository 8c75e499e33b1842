"""One writer per collection across hosts on PostgreSQL: the advisory lock keeps a second writer out, and
a writer killed with SIGKILL releases it with its session."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from rag_core.errors import BackendUnavailable
from tests.postgres import PostgresServer
from vectorstore.catalog import Catalog

pytestmark = pytest.mark.integration

HOLD = """
import sys, time
from vectorstore.catalog import Catalog
with Catalog(sys.argv[1]).writer_lock("handbook_key"):
    print("locked", flush=True)
    time.sleep(600)
"""


def test_a_killed_writer_releases_the_collection(postgres: PostgresServer) -> None:
    url = postgres.new_database()
    catalog = Catalog(url)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    holder = subprocess.Popen([sys.executable, "-c", HOLD, url], stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        with (
            pytest.raises(BackendUnavailable, match="another process has been writing"),
            catalog.writer_lock("handbook_key", timeout=0.5),
        ):
            pass
        with catalog.writer_lock("other_key", timeout=0.5):  # other collections are not blocked
            pass
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=30)
        with catalog.writer_lock("handbook_key", timeout=30):
            pass
    finally:
        holder.kill()
        catalog.close()
