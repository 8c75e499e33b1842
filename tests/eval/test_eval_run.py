"""A real end-to-end run of `rag eval` on the fixture set, with the embedded default components."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rag_cli import app

FIXTURE = Path(__file__).parent / "fixtures" / "tiny-set"


def run_eval(tmp_path: Path, *args: str) -> tuple[dict, str]:
    report = tmp_path / "report.json"
    markdown = tmp_path / "report.md"
    result = CliRunner().invoke(
        app, ["eval", str(FIXTURE), "--json", str(report), "--markdown", str(markdown), *args]
    )
    assert result.exit_code == 0, result.output
    return json.loads(report.read_text(encoding="utf-8")), markdown.read_text(encoding="utf-8")


def test_retrieval_only_run(tmp_path: Path) -> None:
    data, markdown = run_eval(tmp_path, "--retrieval-only", "--ablate", "lexical")
    assert data["set"] == "tiny-set"
    assert data["ingest"]["collection"] == "eval-tiny-set"
    assert data["ingest"]["documents"] == 4 and data["ingest"]["fresh"]
    assert [run["name"] for run in data["runs"]] == ["full", "no-lexical"]
    full = data["runs"][0]
    summary = full["summary"]
    assert summary["questions"] == 6 and summary["answerable"] == 5 and summary["errors"] == 0
    assert summary["retrieval"]["hit@5"] > 0
    assert summary["answers"] == {}
    assert summary["latency"]["total"]["n"] == 6
    record = full["records"][0]
    assert record["id"] == "en-1" and record["gold_docs"] == ["lighthouse.md"]
    assert set(record["hits"]) == {"hit@1", "hit@3", "hit@5", "hit@10"}
    assert record["context"] and {"rank", "doc_id", "chunk_ids", "hit"} <= set(record["context"][0])
    assert all(
        item["doc_id"] in {"lighthouse.md", "bakery.txt", "茶园.txt", "notes/rover.txt"}
        for r in full["records"]
        for item in r["context"]
    )
    assert record["answer"] is None
    # where answers are lost: each stage's output checked for a hit, the final context last
    assert set(record["reach"]) == {"retrieve", "rerank", "context"}
    assert record["reach"]["context"] == any(item["hit"] for item in record["context"])
    assert summary["reach"]["retrieve"] >= summary["reach"]["rerank"] >= summary["reach"]["context"] > 0
    assert "| full |" in markdown and "| no-lexical |" in markdown
    assert "Answer reached by each stage" in markdown

    again, _ = run_eval(tmp_path, "--retrieval-only", "--limit", "2")
    assert not again["ingest"]["fresh"] and again["ingest"]["files"]["unchanged"] == 4
    assert again["runs"][0]["summary"]["questions"] == 2

    tune, _ = run_eval(tmp_path, "--retrieval-only", "--split", "tune")
    check, _ = run_eval(tmp_path, "--retrieval-only", "--split", "check")
    assert tune["split"] == "tune" and check["split"] == "check"
    halves = [{r["id"] for r in report["runs"][0]["records"]} for report in (tune, check)]
    assert halves[0].isdisjoint(halves[1]) and halves[0] | halves[1] == {r["id"] for r in full["records"]}


def test_unknown_stage_is_a_usage_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["eval", str(FIXTURE), "--ablate", "nope"])
    assert result.exit_code != 0
    assert "unknown stage 'nope'" in str(result.exception)


@pytest.mark.slow
def test_run_with_generation(tmp_path: Path) -> None:
    data, markdown = run_eval(tmp_path, "--limit", "6")
    summary = data["runs"][0]["summary"]
    answers = summary["answers"]
    assert set(answers) >= {
        "accuracy",
        "citation_precision",
        "refusal_rate",
        "false_refusal_rate",
        "groundedness",
    }
    assert answers["refusal_rate"] is not None
    assert summary["prompt_tokens"]["n"] > 0
    records = data["runs"][0]["records"]
    assert all(r["answer"] is not None for r in records)
    assert "groundedness" in markdown


def test_conversational_set_reports_history_alone_and_gold_rewrite(tmp_path: Path) -> None:
    report = tmp_path / "chat.json"
    markdown = tmp_path / "chat.md"
    chat = FIXTURE.parent / "tiny-chat"
    result = CliRunner().invoke(
        app, ["eval", str(chat), "--retrieval-only", "--json", str(report), "--markdown", str(markdown)]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(report.read_text(encoding="utf-8"))
    assert [run["name"] for run in data["runs"]] == ["full", "question-alone", "gold-rewrite"]
    full, alone, gold = (run["summary"]["turns"] for run in data["runs"])
    assert set(full) == {"single", "follow-up", "topic-shift", "follow-up with gold rewrite"}
    assert full["follow-up"]["n"] == 2 and full["topic-shift"]["n"] == 1
    turns = {r["id"]: r["turn"] for r in data["runs"][0]["records"]}
    assert turns == {
        "single-en": "single",
        "follow-en": "follow-up",
        "shift-en": "topic-shift",
        "follow-zh": "follow-up",
    }
    # the follow-ups name nothing of what they ask about: with the history they find it
    assert full["follow-up"]["hit@5"] == gold["follow-up"]["hit@5"] == 1.0
    assert full["topic-shift"]["hit@1"] == alone["topic-shift"]["hit@1"] == 1.0
    assert "Conversations: hit@k per kind of turn" in markdown.read_text(encoding="utf-8")
