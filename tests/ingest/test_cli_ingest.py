"""`rag ingest`, `rag collections`, `rag documents` through the installed console script."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import fixtures_module, rag_executable, write_corpus

REPORT_KEYS = {"collection", "files", "failures", "documents", "chunks", "seconds"}
STATUS_KEYS = {"added", "updated", "unchanged", "removed", "failed", "skipped"}


def rag(
    *args: str, env: dict[str, str] | None = None, timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", **(env or {})}
    return subprocess.run(
        [str(rag_executable()), *args],
        capture_output=True,
        text=True,
        env=full_env,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


def json_out(result: subprocess.CompletedProcess[str]) -> Any:
    """stdout holds exactly one JSON document (progress and logs go elsewhere)."""
    return json.loads(result.stdout)


def check_report(report: dict[str, Any], collection: str) -> None:
    assert set(report) >= REPORT_KEYS
    assert report["collection"] == collection
    assert set(report["files"]) == STATUS_KEYS and all(isinstance(v, int) for v in report["files"].values())
    assert isinstance(report["documents"], int) and isinstance(report["chunks"], int)
    assert isinstance(report["seconds"], float | int) and report["seconds"] >= 0
    for failure in report["failures"]:
        assert {"path", "error"} <= set(failure)
        assert Path(failure["path"]).is_absolute() and failure["error"] and "\n" not in failure["error"]


@pytest.mark.slow
def test_ingest_report_exit_codes_and_admin_commands(tmp_path: Path, isolated_env: Path) -> None:
    docs = tmp_path / "docs"
    files = write_corpus(docs)
    (docs / "empty.txt").write_bytes(b"")
    (docs / "tool.exe").write_bytes(b"MZ\x90\x00" + bytes(range(256)))

    first = rag("ingest", str(docs), "--collection", "kb", "--json")
    assert first.returncode == 0, first.stderr  # skipped files are not failures
    report = json_out(first)
    check_report(report, "kb")
    assert report["files"] == {**dict.fromkeys(STATUS_KEYS, 0), "added": 7, "skipped": 2}
    assert {Path(f["path"]).name for f in report["failures"]} == {"empty.txt", "tool.exe"}
    assert report["documents"] == 7 and report["chunks"] >= 7
    assert (isolated_env / "catalog.sqlite3").is_file() and (isolated_env / "chroma").is_dir()

    scratch = tmp_path / "scratch"
    scratch.mkdir()
    fixtures_module().make_corrupt_pdf(scratch).rename(docs / "broken.pdf")
    files["txt"].unlink()
    second = rag("ingest", str(docs), "--collection", "kb", "--prune", "--json")
    assert second.returncode == 1, second.stderr
    report = json_out(second)
    check_report(report, "kb")
    assert report["files"] == {
        **dict.fromkeys(STATUS_KEYS, 0),
        "unchanged": 6,
        "removed": 1,
        "failed": 1,
        "skipped": 2,
    }
    broken = next(f for f in report["failures"] if f["path"].endswith("broken.pdf"))
    assert broken["path"] == str((docs / "broken.pdf").resolve()) and "PDF" in broken["error"]
    assert report["documents"] == 6

    human = rag("ingest", str(files["md"]), "--collection", "kb")
    assert human.returncode == 0, human.stderr
    assert "unchanged" in human.stdout and "6 documents" in human.stdout

    listed = rag("collections", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    (row,) = json_out(listed)
    assert row["name"] == "kb" and row["documents"] == 6 and row["chunks"] == report["chunks"]
    assert row["embedder"] == "all-MiniLM-L6-v2 (bundled)"

    documents = rag("documents", "--collection", "kb", "--json")
    assert documents.returncode == 0, documents.stderr
    rows = {Path(r["source"]).name: r for r in json_out(documents)}
    assert rows["broken.pdf"]["status"] == "failed" and "PDF" in rows["broken.pdf"]["error"]
    assert rows["handbook.md"]["status"] == "ready" and rows["handbook.md"]["chunks"] >= 1
    assert rows["handbook.md"]["title"] == "Employee Handbook" and rows["handbook.md"]["content_hash"]
    assert "release.txt" not in rows and "empty.txt" not in rows

    assert rag("collections", "delete", "nope", "--yes").returncode == 2
    deleted = rag("collections", "delete", "kb", "--yes")
    assert deleted.returncode == 0, deleted.stderr
    assert json_out(rag("collections", "list", "--json")) == []
    gone = rag("documents", "--collection", "kb", "--json")
    assert gone.returncode == 2
    assert json_out(gone)["error"]["type"] == "not_found" and "kb" in json_out(gone)["error"]["message"]
    assert "kb" in rag("documents", "--collection", "kb").stderr  # without --json: text on stderr


def test_usage_and_configuration_errors_exit_2(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.md").write_text("# A\n\nSome text.\n", encoding="utf-8")

    missing = rag("ingest", str(tmp_path / "nowhere"), "--json")
    assert missing.returncode == 2  # with --json the error is JSON on stdout, as the API shapes it
    error = json.loads(missing.stdout)["error"]
    assert "nowhere" in error["message"] and error["type"] and "error:" not in missing.stderr
    typo = rag("ingest", str(docs), "--jsn")
    assert typo.returncode == 2 and "--jsn" in typo.stderr  # a usage error stays text without --json

    backend = rag("ingest", str(docs), env={"RAG_LLM__BACKEND": "foo"})
    assert backend.returncode == 2
    assert "llm.backend" in backend.stderr

    chunking = rag("ingest", str(docs), env={"RAG_CHUNKING__CHUNK_TOKENS": "lots"})
    assert chunking.returncode == 2 and "chunking.chunk_tokens" in chunking.stderr

    config = rag("ingest", str(docs), env={"RAG_CONFIG": str(tmp_path / "missing.toml")})
    assert config.returncode == 2 and "missing.toml" in config.stderr

    assert rag("ingest").returncode == 2  # no PATH
    assert rag("ingest", str(docs), "--no-such-flag").returncode == 2
    assert not (tmp_path / "rag-data" / "chroma").exists()  # nothing was written
