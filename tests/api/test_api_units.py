"""Small pieces without models: upload file names, the bind check of `rag serve`, the conversation store."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.conversations import ConversationStore
from api.jobs import JobRegistry, JobStore
from api.schemas import Job
from api.uploads import clean_filename, target_path
from rag_cli import app as cli
from rag_cli.serve import check_bind, is_loopback
from rag_core.errors import ConfigError, InvalidInputError, NotFoundError
from rag_core.settings import Settings


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("report.pdf", "report.pdf"),
        ("../../etc/passwd", "passwd"),
        ("/etc/shadow", "shadow"),
        ("C:\\Users\\me\\报告 2024.docx", "报告 2024.docx"),
        ("..\\..\\boot.ini", "boot.ini"),
        (".bashrc", "bashrc"),
        ("a\tb\nc.txt", "abc.txt"),
        ("semi;colon|pipe<>.md", "semi_colon_pipe__.md"),
        ("x" * 300 + ".txt", "x" * 176 + ".txt"),
    ],
)
def test_clean_filename(raw: str, clean: str) -> None:
    assert clean_filename(raw) == clean


@pytest.mark.parametrize("raw", ["", "..", "...", "/", "../", "a/..", "evil\x00.txt"])
def test_unusable_filenames_are_rejected(raw: str) -> None:
    with pytest.raises(InvalidInputError):
        clean_filename(raw)


def test_target_path_stays_in_its_folder(tmp_path: Path) -> None:
    assert target_path(tmp_path, "a.txt") == tmp_path.resolve() / "a.txt"
    for name in ("../a.txt", "sub/a.txt", "/etc/passwd"):
        with pytest.raises(InvalidInputError):
            target_path(tmp_path, name)


def test_loopback_detection() -> None:
    assert all(is_loopback(h) for h in ("127.0.0.1", "localhost", "::1", "[::1]", "127.1.2.3"))
    assert not any(is_loopback(h) for h in ("0.0.0.0", "::", "192.168.1.10", "example.com"))


def test_public_bind_needs_keys_or_permission(tmp_path: Path) -> None:
    open_settings = Settings(data_dir=tmp_path)
    with pytest.raises(ConfigError, match="RAG_API_KEYS"):
        check_bind("0.0.0.0", open_settings, allow_public=False)
    check_bind("127.0.0.1", open_settings, allow_public=False)
    check_bind("0.0.0.0", open_settings, allow_public=True)
    check_bind("0.0.0.0", Settings(data_dir=tmp_path, api_keys=["k"]), allow_public=False)
    allowed = open_settings.model_copy(
        update={"api": open_settings.api.model_copy(update={"allow_public_bind": True})}
    )
    check_bind("0.0.0.0", allowed, allow_public=False)


def test_rag_serve_refuses_a_public_address_without_keys() -> None:
    result = CliRunner().invoke(cli, ["serve", "--host", "0.0.0.0", "--port", "1"])
    assert isinstance(result.exception, ConfigError)
    assert "refusing to listen on 0.0.0.0" in str(result.exception)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.integration)])
def store_at(request: pytest.FixtureRequest, tmp_path: Path) -> Path | str:
    """Where a store lives: a SQLite file, or a new database on a real PostgreSQL server."""
    if request.param == "postgres":
        return str(request.getfixturevalue("postgres").new_database())
    return tmp_path / "store.sqlite3"


def test_conversation_store(store_at: Path | str) -> None:
    store = ConversationStore(store_at)
    conv = store.create("", "kb")
    for i in range(5):
        store.add_message(conv.id, "user", f"question {i}")
        store.add_message(conv.id, "assistant", f"answer {i}", refused=i == 3)
    history = store.history(conv.id, limit=3)
    assert [(m.role, m.content) for m in history] == [
        ("assistant", "answer 3"),
        ("user", "question 4"),
        ("assistant", "answer 4"),
    ]
    reopened = ConversationStore(store_at)
    stored = reopened.get(conv.id)
    assert stored.title == "question 0" and len(stored.messages) == 10 and stored.messages[7].refused
    reopened.delete(conv.id)
    with pytest.raises(NotFoundError):
        store.get(conv.id)
    with pytest.raises(NotFoundError):
        store.add_message(conv.id, "user", "hello")


def test_job_store_keeps_the_latest_jobs_for_every_replica(store_at: Path | str) -> None:
    store, other = JobStore(store_at, keep=2), JobStore(store_at, keep=2)
    jobs = [
        Job(id=f"job{i}", collection="kb", status="queued", files_total=1, created=float(i)) for i in range(3)
    ]
    for job in jobs:
        store.put(job)
        store.prune()
    store.put(jobs[2].model_copy(update={"status": "done", "files_done": 1}))
    assert other.get("job2") is not None and other.get("job2").status == "done"  # type: ignore[union-attr]
    assert other.get("job0") is None and other.get("job1") is not None
    registry = JobRegistry(other)
    assert registry.get("job2").files_done == 1
    with pytest.raises(NotFoundError):
        registry.get("job0")


def test_a_job_whose_process_died_reads_as_failed_on_every_replica(store_at: Path | str) -> None:
    store, other = JobStore(store_at, stale_s=0.3), JobStore(store_at, stale_s=0.3)
    alive = Job(id="alive", collection="kb", status="running", files_total=2, created=time.time())
    dead = Job(id="dead", collection="kb", status="running", files_total=2, created=time.time())
    done = Job(id="done", collection="kb", status="done", files_total=1, created=time.time())
    for job in (alive, dead, done):
        store.put(job)
    time.sleep(0.2)
    store.beat(["alive"])
    time.sleep(0.2)
    assert other.get("alive").status == "running"  # type: ignore[union-attr]
    gone = other.get("dead")
    assert gone is not None and gone.status == "failed" and "upload those files again" in (gone.error or "")
    assert other.get("done").status == "done"  # type: ignore[union-attr]
