from __future__ import annotations

from pathlib import Path

from rag.eval.dataset import Question
from rag.eval.report import EvalReport, latency_table, metric_table, reach_table, to_markdown
from rag.eval.runner import RunResult, doc_id_of
from rag.eval.scoring import ContextItem, Outcome, score

QUESTION = Question("q1", "How many points?", ("308",), True, ("game.txt",), "en")
CONTEXT = [ContextItem("other.txt", "Nothing."), ContextItem("game.txt", "They gave up 308 points.")]


def run(name: str, answer: str | None, context: list[ContextItem]) -> RunResult:
    outcome = Outcome(
        context=context,
        answer=answer,
        cited=[2] if answer else [],
        timings={"retrieve": 0.05, "generate": 1.0, "total": 1.1},
        prompt_tokens=400 if answer else None,
    )
    return RunResult(name, [score(QUESTION, outcome)])


def test_metric_table_rows_match_the_header_and_show_deltas() -> None:
    runs = [run("full", "308 points [2].", CONTEXT), run("no-dense", "308 points [2].", CONTEXT[:1])]
    header, rows = metric_table(runs)
    assert all(len(row) == len(header) for row in rows)
    cells = dict(zip(header, rows[1], strict=True))
    assert cells["hit@3"] == "0.000 (-1.000)"
    assert cells["accuracy"].startswith("1.000")
    assert cells["prompt tok."] == "400"
    assert dict(zip(header, rows[0], strict=True))["hit@1"] == "0.000"


def test_retrieval_only_table_has_no_answer_columns() -> None:
    header, rows = metric_table([run("full", None, CONTEXT)])
    assert "accuracy" not in header and "prompt tok." not in header
    assert all(len(row) == len(header) for row in rows)


def test_latency_table_and_markdown() -> None:
    runs = [run("full", "308 points [2].", CONTEXT)]
    header, rows = latency_table(runs)
    assert header == ["stage (ms p50 / p95)", "full"]
    assert ["generate", "1000 / 1000"] in rows
    markdown = to_markdown(EvalReport("tiny", "/x", runs))
    assert markdown.startswith("# rag eval: tiny") and "| full | 1 |" in markdown


def test_reach_table_shows_the_runs_that_measured_it() -> None:
    staged = score(QUESTION, Outcome(context=CONTEXT[:1], stages={"retrieve": CONTEXT, "rerank": CONTEXT}))
    runs = [RunResult("full", [staged]), run("naive", None, CONTEXT)]
    header, rows = reach_table(runs)  # type: ignore[misc]
    assert header == ["run", "in the candidates", "in the top passages", "in the context"]
    assert rows == [["full", "1.000", "1.000", "0.000"]]
    assert reach_table([run("naive", None, CONTEXT)]) is None
    assert "Answer reached by each stage" in to_markdown(EvalReport("tiny", "/x", runs))


def test_report_json_carries_records_and_summary() -> None:
    data = EvalReport("tiny", "/x", [run("full", None, CONTEXT)]).to_json()
    record = data["runs"][0]["records"][0]
    assert record["hits"] == {"hit@1": False, "hit@3": True, "hit@5": True, "hit@10": True}
    assert [c["doc_id"] for c in record["context"]] == ["other.txt", "game.txt"]
    assert data["runs"][0]["summary"]["retrieval"]["mrr@10"] == 0.5


def test_doc_id_is_the_path_under_docs(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    assert doc_id_of(str(docs / "notes" / "a.txt"), docs) == "notes/a.txt"
    assert doc_id_of("/elsewhere/b.txt", docs) == "/elsewhere/b.txt"
