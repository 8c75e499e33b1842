"""benchmarks/naive_langchain.py on the fixture set, retrieval only (no LLM)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.helpers import script_module

FIXTURE = Path(__file__).parent / "fixtures" / "tiny-set"


def test_naive_and_ours_side_by_side(tmp_path: Path) -> None:
    naive = script_module("benchmarks/naive_langchain.py")
    report = tmp_path / "naive.json"
    assert naive.main([str(FIXTURE), "--retrieval-only", "--json", str(report)]) == 0
    data = json.loads(report.read_text(encoding="utf-8"))
    assert [run["name"] for run in data["runs"]] == ["naive-langchain", "rag"]
    naive_run = data["runs"][0]
    assert all(len(r["context"]) <= naive.TOP_K for r in naive_run["records"])
    assert naive_run["summary"]["retrieval"]["hit@5"] > 0
    assert data["naive"]["chunks"] >= 4
    assert {item["doc_id"] for r in naive_run["records"] for item in r["context"]} <= {
        "lighthouse.md",
        "bakery.txt",
        "茶园.txt",
        "notes/rover.txt",
    }
