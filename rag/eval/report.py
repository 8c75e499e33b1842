"""The report of an eval run: JSON (per-question records and summaries), Markdown, terminal tables.

The metric table has one row per run (the full pipeline, each ablation, or the naive baseline); rows
after the first show their difference from the first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from rich.console import Console
from rich.table import Table

from rag.eval.dataset import SetError
from rag.eval.runner import IngestStats, RunResult
from rag.eval.summary import STAGE_TIMINGS

RETRIEVAL_COLUMNS = [
    ("hit@1", "hit@1"),
    ("hit@3", "hit@3"),
    ("hit@5", "hit@5"),
    ("hit@10", "hit@10"),
    ("MRR@10", "mrr@10"),
]
REACH_COLUMNS = [
    ("retrieve", "in the candidates"),
    ("rerank", "in the top passages"),
    ("context", "in the context"),
]
"""Share of answerable questions with a hit among what each stage handed on: the fused candidates
(before reranking), the top passages after reranking (whole), the final context (after compression)."""
ANSWER_COLUMNS = [
    ("accuracy", "accuracy"),
    ("cit. precision", "citation_precision"),
    ("refusal", "refusal_rate"),
    ("false refusal", "false_refusal_rate"),
    ("groundedness", "groundedness"),
]


@dataclass(slots=True)
class EvalReport:
    set_name: str
    set_dir: str
    runs: list[RunResult]
    ingest: IngestStats | None = None
    problems: list[SetError] = field(default_factory=list)
    config: dict[str, Any] = field(default_factory=dict)
    limit: int | None = None
    split: str = "all"

    def to_json(self) -> dict[str, Any]:
        return {
            "set": self.set_name,
            "set_dir": self.set_dir,
            "limit": self.limit,
            "split": self.split,
            "config": self.config,
            "ingest": self.ingest.to_json() if self.ingest else None,
            "skipped_lines": [
                {"file": str(p.path), "line": p.line, "error": p.detail} for p in self.problems
            ],
            "runs": [run.to_json() for run in self.runs],
        }


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def _cell(value: float | None, base: float | None, show_delta: bool) -> str:
    text = _fmt(value)
    if show_delta and value is not None and base is not None:
        text += f" ({value - base:+.3f})"
    return text


def _ms(value: float | None) -> str:
    return "n/a" if value is None else f"{value * 1000:.0f}"


def metric_table(runs: Sequence[RunResult]) -> tuple[list[str], list[list[str]]]:
    summaries = [run.summary for run in runs]
    answers = any(s["answers"] for s in summaries)
    columns = RETRIEVAL_COLUMNS + (ANSWER_COLUMNS if answers else [])
    tokens = any(s["prompt_tokens"]["n"] for s in summaries)
    header = [
        "run",
        "n",
        *(label for label, _ in columns),
        "ctx chars",
        "p50 ms",
        "p95 ms",
        *(["prompt tok."] if tokens else []),
    ]
    rows: list[list[str]] = []
    base = summaries[0]
    for i, (run, s) in enumerate(zip(runs, summaries, strict=True)):
        values = {**s["retrieval"], **s["answers"]}
        base_values = {**base["retrieval"], **base["answers"]}
        total = s["latency"].get("total", {})
        count = f"{s['questions']}" + (f" ({s['errors']} failed)" if s["errors"] else "")
        rows.append(
            [
                run.name,
                count,
                *(_cell(values.get(key), base_values.get(key), i > 0) for _, key in columns),
                "n/a" if values.get("context_chars") is None else f"{values['context_chars']:.0f}",
                _ms(total.get("p50")),
                _ms(total.get("p95")),
            ]
        )
        if tokens:
            mean_tokens = s["prompt_tokens"]["mean"]
            rows[-1].append("n/a" if mean_tokens is None else f"{mean_tokens:.0f}")
    return header, rows


def latency_table(runs: Sequence[RunResult]) -> tuple[list[str], list[list[str]]]:
    summaries = [run.summary for run in runs]
    header = ["stage (ms p50 / p95)", *(run.name for run in runs)]
    rows = []
    for stage in STAGE_TIMINGS:
        cells = []
        for s in summaries:
            entry = s["latency"].get(stage)
            cells.append(f"{_ms(entry['p50'])} / {_ms(entry['p95'])}" if entry else "-")
        if any(c != "-" for c in cells):
            rows.append([stage, *cells])
    return header, rows


def reach_table(runs: Sequence[RunResult]) -> tuple[list[str], list[list[str]]] | None:
    """Where answers are lost: one row per run that measured it (our pipeline; not the naive one)."""
    measured = [(run, run.summary["reach"]) for run in runs]
    measured = [(run, reach) for run, reach in measured if reach]
    if not measured:
        return None
    header = ["run", *(label for _, label in REACH_COLUMNS)]
    rows = [[run.name, *(_fmt(reach.get(stage)) for stage, _ in REACH_COLUMNS)] for run, reach in measured]
    return header, rows


def turn_table(runs: Sequence[RunResult]) -> tuple[list[str], list[list[str]]] | None:
    """Conversational sets: hit@1 / hit@5 per kind of turn (follow-up, topic shift), one row per run."""
    summaries = [(run, run.summary["turns"]) for run in runs]
    kinds = list(dict.fromkeys(kind for _, turns in summaries for kind in turns))
    if not kinds:
        return None
    header = ["run", *(f"{kind} hit@1 / @5" for kind in kinds)]
    rows = []
    for run, turns in summaries:
        cells = []
        for kind in kinds:
            entry = turns.get(kind)
            cells.append(f"{_fmt(entry['hit@1'])} / {_fmt(entry['hit@5'])} ({entry['n']})" if entry else "-")
        rows.append([run.name, *cells])
    return header, rows


def _markdown_table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def ingest_line(stats: IngestStats) -> str:
    files = ", ".join(f"{n} {s}" for s, n in stats.files.items() if n)
    return (
        f"ingest into `{stats.collection}`: {stats.seconds:.1f} s ({files}; {stats.documents} documents, "
        f"{stats.chunks} chunks, {stats.new_chunks} embedded{', fresh' if stats.fresh else ', incremental'})"
    )


def to_markdown(report: EvalReport) -> str:
    parts = [f"# rag eval: {report.set_name}", ""]
    config = report.config
    if config:
        llm = config.get("llm", {})
        parts.append(
            f"embedder `{config.get('embedding')}`, LLM `{llm.get('backend')}: {llm.get('model')}`, "
            f"reranker `{config.get('rerank')}`"
        )
        parts.append("")
    if report.ingest:
        parts += [ingest_line(report.ingest), ""]
    if report.problems:
        parts += [f"{len(report.problems)} question lines skipped:", ""]
        parts += [f"- {p.message}" for p in report.problems] + [""]
    parts += [_markdown_table(*metric_table(report.runs)), ""]
    reach = reach_table(report.runs)
    if reach:
        parts += ["Answer reached by each stage", "", _markdown_table(*reach), ""]
    turns = turn_table(report.runs)
    if turns:
        parts += ["Conversations: hit@k per kind of turn", "", _markdown_table(*turns), ""]
    parts += ["Latency per stage", "", _markdown_table(*latency_table(report.runs)), ""]
    return "\n".join(parts)


def rich_tables(runs: Sequence[RunResult], title: str) -> list[Table]:
    tables = []
    reach = reach_table(runs)
    turns = turn_table(runs)
    captioned = [
        (title, metric_table(runs)),
        *([("answer reached by each stage", reach)] if reach else []),
        *([("conversations: hit@k per kind of turn", turns)] if turns else []),
    ]
    for caption, (header, rows) in [*captioned, ("latency", latency_table(runs))]:
        table = Table(title=caption, show_header=True, header_style="bold")
        for i, name in enumerate(header):
            table.add_column(name, justify="left" if i == 0 else "right")
        for row in rows:
            table.add_row(*row)
        tables.append(table)
    return tables


def table_console(stderr: bool = False) -> Console:
    """A console for the result tables: the terminal's width, or wide enough when output is redirected."""
    console = Console(stderr=stderr)
    return console if console.is_terminal else Console(stderr=stderr, width=200)
