"""benchmarks/citation_check.py on the fixture set: answers of known truth through the citation check."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rag.eval.dataset import split_of
from tests.helpers import script_module

FIXTURE = Path(__file__).parent / "fixtures" / "tiny-set"


def test_right_answers_are_kept_and_made_up_ones_withheld(tmp_path: Path) -> None:
    report = tmp_path / "rows.json"
    assert script_module("benchmarks/citation_check.py").main([str(FIXTURE), "--json", str(report)]) == 0
    rows = json.loads(report.read_text(encoding="utf-8"))
    by_kind: dict[str, list[dict[str, object]]] = {}
    for row in rows:
        by_kind.setdefault(str(row["kind"]), []).append(row)
    copied = by_kind["copied sentence"]
    assert {str(r["id"])[:2] for r in copied} == {"en", "zh"}
    assert all(r["kept"] and r["cites_hit"] for r in copied)
    assert len(by_kind["wrong in sentence"]) == len(copied)
    assert not any(r["kept"] for r in by_kind["wrong bare"] + by_kind["wrong in sentence"])


def test_split_takes_one_fixed_half(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    report = tmp_path / "rows.json"
    main = script_module("benchmarks/citation_check.py").main
    assert main([str(FIXTURE), "--split", "check", "--json", str(report)]) == 0
    rows = json.loads(report.read_text(encoding="utf-8"))
    assert rows and all(split_of(str(r["id"])) == "check" for r in rows)
    out = capsys.readouterr().out
    assert "split: check" in out and "wrong let through" in out
