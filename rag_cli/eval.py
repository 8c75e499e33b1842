"""`rag eval SET_DIR [--split all|tune|check] [--collection NAME] [--limit N] [--json FILE]
[--markdown FILE] [--ablate STAGE ...] [--retrieval-only] [--fresh] [--strict]`"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any, cast

import typer

from rag_cli.output import err_console, notice, print_json, progress_bar
from rag_core.errors import ConfigError

EVAL_SEED = 0  # sampling seed when RAG_LLM__SEED is not set


def register(app: typer.Typer) -> None:
    app.command("eval")(eval_command)


def eval_command(
    set_dir: Annotated[
        Path, typer.Argument(help="a benchmark set: docs/ and questions.jsonl (docs/eval.md)")
    ],
    collection: Annotated[
        str | None, typer.Option("--collection", "-c", help="collection to ingest into; default eval-<set>")
    ] = None,
    split: Annotated[
        str,
        typer.Option(
            help="all, or a fixed half of the questions by a hash of their id: tune (measure while "
            "changing the pipeline) or check (report)"
        ),
    ] = "all",
    limit: Annotated[int | None, typer.Option(min=1, help="ask only the first N questions")] = None,
    json_file: Annotated[
        Path | None,
        typer.Option("--json", help="write the full report (per-question records) here; - = stdout"),
    ] = None,
    markdown_file: Annotated[
        Path | None, typer.Option("--markdown", help="write a Markdown summary here")
    ] = None,
    ablate: Annotated[
        list[str] | None,
        typer.Option(
            help="also run with this stage off (repeatable): rewrite, expand, summaries, lexical, "
            "dense, links, rerank, compression"
        ),
    ] = None,
    retrieval_only: Annotated[
        bool, typer.Option("--retrieval-only", help="skip generation: retrieval metrics and latency only")
    ] = False,
    fresh: Annotated[bool, typer.Option(help="delete the collection first and ingest from scratch")] = False,
    strict: Annotated[bool, typer.Option(help="stop at the first bad line of questions.jsonl")] = False,
) -> None:
    """Measure retrieval and answers on a benchmark set, through the same code path as the API."""
    from rag.components import Components
    from rag.eval.dataset import load_set, select_split
    from rag.eval.report import EvalReport, ingest_line, rich_tables, table_console, to_markdown
    from rag.eval.runner import (
        Conversation,
        PipelineSystem,
        RunResult,
        config_snapshot,
        default_collection,
        ingest_set,
        run_questions,
    )
    from rag.local.discovery import hold_for_in_process
    from rag.query.request import STAGES, Stage
    from rag_core.settings import load_settings

    stages = list(dict.fromkeys(ablate or []))
    unknown = [s for s in stages if s not in STAGES]
    if unknown:
        raise ConfigError(
            f"unknown stage {unknown[0]!r} for --ablate", hint=f"choose from {', '.join(STAGES)}"
        )
    eval_set = load_set(set_dir, strict=strict)
    for problem in eval_set.problems:
        err_console.print(f"[yellow]skipped[/] {problem.message}", highlight=False, soft_wrap=True)
    questions = select_split(eval_set.questions, split)
    questions = questions[:limit] if limit else questions
    settings = load_settings()
    if settings.llm.seed is None:  # the same commit gives the same answers: runs can be compared
        settings.llm.seed = EVAL_SEED
    _lock = hold_for_in_process(settings, "rag eval", say=notice)  # released when the process exits
    components = Components(settings)
    name = collection or default_collection(eval_set)
    show = err_console.is_terminal and json_file != Path("-")

    with progress_bar("ingest", show) as update:
        stats = ingest_set(
            components,
            eval_set,
            name,
            fresh=fresh,
            progress=(lambda o, d, t: update(d, t, Path(o.path).name[:40])) if update else None,
        )
    for failure in stats.failures:
        err_console.print(
            f"[yellow]{failure['status']}[/] {failure['path']}: {failure['error']}", highlight=False
        )
    err_console.print(ingest_line(stats).replace("`", ""), highlight=False, soft_wrap=True)

    pipeline = components.query_pipeline()
    variants: list[tuple[str, frozenset[Stage], Conversation, bool]] = [
        ("full", frozenset(), "history", retrieval_only)
    ]
    variants += [(f"no-{s}", frozenset({cast(Stage, s)}), "history", retrieval_only) for s in stages]
    if any(q.history for q in questions):  # conversational: what the history brings, retrieval only
        variants += [
            ("question-alone", frozenset(), "alone", True),
            ("gold-rewrite", frozenset(), "gold", True),
        ]
    runs: list[RunResult] = []
    for label, disabled, conversation, only_retrieval in variants:
        system = PipelineSystem(
            pipeline,
            stats.collection,
            eval_set.docs_dir,
            retrieval_only=only_retrieval,
            disabled=disabled,
            conversation=conversation,
        )
        if not runs:
            system.warm_up(questions)
            if not retrieval_only:
                components.llm().warm_up()
        with progress_bar(label, show) as update:
            records = run_questions(system, questions, (lambda d, t: update(d, t, "")) if update else None)
        runs.append(RunResult(label, records, sorted(disabled), only_retrieval))

    report = EvalReport(
        set_name=eval_set.name,
        set_dir=str(eval_set.root),
        runs=runs,
        ingest=stats,
        problems=eval_set.problems,
        config=config_snapshot(components),
        limit=limit,
        split=split,
    )
    _write(report.to_json(), json_file)
    if markdown_file:
        markdown_file.write_text(to_markdown(report), encoding="utf-8")
    if json_file != Path("-"):
        console = table_console()
        for table in rich_tables(runs, f"{eval_set.name} ({len(questions)} questions, split {split})"):
            console.print(table)
    failed = sum(run.summary["errors"] for run in runs)
    if failed:
        err_console.print(f"[red]{failed} question runs failed[/]: see the error field in the JSON report")
        sys.exit(1)


def _write(data: dict[str, Any], target: Path | None) -> None:
    if target is None:
        return
    if target == Path("-"):
        print_json(data)
        return
    import json

    target.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
